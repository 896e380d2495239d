"""Activations: gradient checks, no mutation of upstream gradients, known values, options."""
from __future__ import annotations

import numpy as np
import pytest

from engine.activations import ACTIVATIONS, make_activation
from engine.errors import SpecError, UnknownNameError
from engine.gradcheck import numerical_gradient, relative_error

NAMES = ACTIVATIONS.names()


def away_from_zero(rng, shape) -> np.ndarray:
    """|x| in [0.1, 3]: relu, leaky_relu and step have kinks/jumps at 0."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 3.0, size=shape)


def analytic_and_numeric(name: str, seed: int = 0):
    act = make_activation(name)
    rng = np.random.default_rng(seed)
    x = away_from_zero(rng, (4, 5))
    g = rng.standard_normal((4, 5))
    analytic = act.backward(g, x, act.forward(x))
    numeric = numerical_gradient(lambda v: float(np.sum(act.forward(v) * g)), x.copy())
    return analytic, numeric


@pytest.mark.parametrize("name", NAMES)
def test_activation_gradient_matches_central_differences(name):
    analytic, numeric = analytic_and_numeric(name)
    assert relative_error(analytic, numeric) < 1e-6


@pytest.mark.parametrize("name", NAMES)
def test_zero_gradient_flag_matches_the_measured_gradient(name):
    analytic, numeric = analytic_and_numeric(name)
    flagged = ACTIVATIONS.get(name).zero_gradient
    assert flagged == (not np.any(analytic)), "zero_gradient must be set exactly when backward is all zeros"
    if flagged:  # step: the numerical gradient agrees that nothing flows back
        assert not np.any(numeric)


@pytest.mark.parametrize("name", NAMES)
def test_activation_backward_does_not_mutate_upstream_gradient(name):
    act = make_activation(name)
    rng = np.random.default_rng(1)
    x = away_from_zero(rng, (3, 4)).astype(np.float32)
    grad = rng.standard_normal((3, 4)).astype(np.float32)
    kept = grad.copy()
    act.backward(grad, x, act.forward(x))
    np.testing.assert_array_equal(grad, kept)


@pytest.mark.parametrize("name", NAMES)
def test_activation_keeps_float32(name):
    act = make_activation(name)
    x = away_from_zero(np.random.default_rng(2), (3, 4)).astype(np.float32)
    y = act.forward(x)
    assert y.dtype == np.float32 and y.shape == x.shape
    assert act.backward(np.ones_like(y), x, y).dtype == np.float32


def test_step_is_one_for_positive_and_zero_otherwise():
    x = np.array([-2.0, 0.0, 1e-9, 3.0])
    np.testing.assert_array_equal(make_activation("step").forward(x), [0, 0, 1, 1])


def test_leaky_relu_default_alpha_is_0_1_and_configurable():
    x = np.array([-10.0, 2.0])
    np.testing.assert_allclose(make_activation("leaky_relu").forward(x), [-1.0, 2.0])
    np.testing.assert_allclose(make_activation({"name": "leaky_relu", "alpha": 0.3}).forward(x), [-3.0, 2.0])


def test_elu_default_alpha_is_1():
    x = np.array([-50.0, -1.0, 2.0])
    np.testing.assert_allclose(make_activation("elu").forward(x), [-1.0, np.expm1(-1.0), 2.0])


def test_sigmoid_tanh_relu_softplus_known_values():
    x = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_allclose(make_activation("sigmoid").forward(x), 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(make_activation("tanh").forward(x), np.tanh(x))
    np.testing.assert_array_equal(make_activation("relu").forward(x), [0.0, 0.0, 2.0])
    np.testing.assert_allclose(make_activation("softplus").forward(x), np.log1p(np.exp(x)))


def test_sigmoid_and_softplus_do_not_overflow_for_large_inputs():
    x = np.array([-1000.0, 1000.0], dtype=np.float32)
    with np.errstate(over="raise"):
        np.testing.assert_array_equal(make_activation("sigmoid").forward(x), [0.0, 1.0])
        np.testing.assert_allclose(make_activation("softplus").forward(x), [0.0, 1000.0])


def test_softmax_rows_sum_to_one_and_are_stable_for_large_inputs():
    x = np.array([[1000.0, 1000.0, 999.0], [-1000.0, 0.0, 1000.0], [1.0, 2.0, 3.0]], dtype=np.float32)
    y = make_activation("softmax").forward(x)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-6)
    e = np.exp([0.0, 0.0, -1.0])
    np.testing.assert_allclose(y[0], e / e.sum(), rtol=1e-6)
    np.testing.assert_allclose(y[1], [0.0, 0.0, 1.0], atol=1e-7)


def test_unknown_activation_lists_the_valid_names():
    with pytest.raises(UnknownNameError) as info:
        make_activation("swishy", "model.layers.0.activation")
    assert "relu" in str(info.value) and info.value.problems[0].path == "model.layers.0.activation"


def test_activation_option_out_of_range_names_the_field():
    with pytest.raises(SpecError) as info:
        make_activation({"name": "leaky_relu", "alpha": 3}, "model.layers.0.activation")
    assert info.value.problems[0].path == "model.layers.0.activation.alpha"
