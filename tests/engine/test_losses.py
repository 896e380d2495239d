"""Losses: float64 gradient checks, fused forms, stability and known values, for every registered loss."""
import numpy as np
import pytest

from engine.activations import make_activation
from engine.gradcheck import numerical_gradient, relative_error
from engine.losses import LOSSES, make_loss


def _outputs_and_labels(name, rng, k=4, n=6):
    """Outputs in each loss's natural range, and integer labels."""
    if name == "perceptron":  # one linear output
        k = 1
    z = rng.normal(size=(n, k))
    if name == "binary_crossentropy":
        return 1 / (1 + np.exp(-z)), rng.integers(0, 2, size=n)
    if name == "categorical_crossentropy":
        e = np.exp(z)
        return e / e.sum(1, keepdims=True), rng.integers(0, k, size=n)
    return z, rng.integers(0, max(k, 2), size=n)


@pytest.mark.parametrize("name", LOSSES.names())
def test_loss_gradient_matches_central_differences(name, rng):
    loss = make_loss(name)
    out, y = _outputs_and_labels(name, rng)
    t = loss.targets(y, out)
    numeric = numerical_gradient(lambda o: loss.value(o, t), out.copy())
    assert relative_error(loss.grad(out, t), numeric) < 1e-6


@pytest.mark.parametrize("name", [n for n in LOSSES.names() if LOSSES.get(n).fused_with])
def test_fused_gradient_equals_loss_through_activation(name, rng):
    loss = make_loss(name)
    act = make_activation(loss.fused_with)
    z = rng.normal(size=(5, 3))
    y = rng.integers(0, 3, size=5) if loss.fused_with == "softmax" else rng.integers(0, 2, size=(5, 3))
    out = act.forward(z)
    t = loss.targets(y, out)
    value, gz = loss.fused(z, out, t)
    assert value == pytest.approx(loss.value(out, t), rel=1e-9)
    numeric = numerical_gradient(lambda zz: loss.value(act.forward(zz), t), z.copy())
    assert relative_error(gz, numeric) < 1e-6


def test_categorical_crossentropy_is_stable_for_huge_scores():
    loss = make_loss("categorical_crossentropy")
    z = np.array([[1e4, 0.0, -1e4]])
    out = make_activation("softmax").forward(z)
    value, gz = loss.fused(z, out, loss.targets(np.array([2]), out))
    assert np.isfinite(value) and value == pytest.approx(2e4)
    assert np.all(np.isfinite(gz))


def test_categorical_crossentropy_accepts_labels_or_one_hot():
    loss = make_loss("categorical_crossentropy")
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    by_label = loss.value(p, loss.targets(np.array([0, 2]), p))
    by_one_hot = loss.value(p, loss.targets(np.array([[1, 0, 0], [0, 0, 1.0]]), p))
    assert by_label == by_one_hot == pytest.approx(-(np.log(0.7) + np.log(0.8)) / 2)


def test_mean_squared_error_is_mean_over_samples_and_outputs():
    loss = make_loss("mean_squared_error")
    out, t = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.0, 0.0], [0.0, 0.0]])
    assert loss.value(out, t) == pytest.approx((1 + 4 + 9 + 16) / 4)


def test_multiclass_hinge_known_value():
    # cs231n example: scores (3.2, 5.1, -1.7), true class 0 -> max(0, 5.1-3.2+1) + max(0, -1.7-3.2+1) = 2.9
    loss = make_loss("hinge")
    out = np.array([[3.2, 5.1, -1.7]])
    assert loss.value(out, loss.targets(np.array([0]), out)) == pytest.approx(2.9)


def test_binary_hinge_maps_labels_to_plus_minus_one():
    loss = make_loss("hinge")
    out = np.array([[0.5], [-2.0]])
    # label 1 with score 0.5 -> 0.5; label 0 (-1) with score -2 -> 0
    assert loss.value(out, loss.targets(np.array([1, 0]), out)) == pytest.approx(0.25)


def test_unknown_loss_lists_valid_names():
    with pytest.raises(KeyError, match="categorical_crossentropy"):
        make_loss("cross_entropy")
