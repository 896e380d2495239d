"""Layers: gradient checks, no mutation of upstream gradients, shapes and known values.

Every registered layer must have at least one entry in LAYER_CASES; the parametrised tests then cover it.
"""
from __future__ import annotations

import numpy as np
import pytest

from engine.activations import ACTIVATIONS
from engine.errors import SpecError
from engine.gradcheck import check_layer_gradients, numerical_gradient, relative_error
from engine.layers import LAYERS
from engine.params import resolve_params

BATCH = 4
TOLERANCE = 1e-6

# name -> [(case id, config, per-sample input shape, training)]
LAYER_CASES: dict[str, list[tuple[str, dict, tuple, bool]]] = {
    "dense": [(act, {"units": 3, "activation": act}, (5,), True) for act in ACTIVATIONS.names()],
    "activation": [(act, {"activation": act}, (6,), True) for act in ACTIVATIONS.names()],
    "conv2d": [
        ("valid", {"filters": 3, "kernel_size": 3, "activation": "tanh"}, (2, 6, 6), True),
        ("same", {"filters": 3, "kernel_size": [3, 2], "padding": "same"}, (2, 5, 6), True),
        ("stride2", {"filters": 2, "kernel_size": 3, "strides": 2}, (2, 7, 6), True),
        ("same-stride2", {"filters": 2, "kernel_size": 2, "strides": [2, 1], "padding": "same"}, (1, 5, 5), True),
    ],
    "maxpool2d": [
        ("tiled", {}, (2, 4, 6), True),
        ("tiled-odd", {"pool_size": 2}, (2, 5, 5), True),
        ("overlapping", {"pool_size": 3, "strides": 2}, (2, 7, 6), True),
    ],
    "avgpool2d": [
        ("tiled", {}, (2, 5, 4), True),
        ("overlapping", {"pool_size": [3, 2], "strides": 1}, (2, 5, 4), True),
    ],
    "batchnorm": [
        ("features-training", {}, (5,), True),
        ("images-training", {}, (3, 3, 4), True),
        ("images-inference", {}, (3, 3, 4), False),
    ],
    "maxout": [("3x3", {"units": 3, "pieces": 3}, (5,), True)],
    "dropout": [("fixed-mask", {"rate": 0.5}, (12,), True), ("inference", {"rate": 0.5}, (12,), False)],
    "flatten": [("images", {}, (2, 3, 2), True)],
    "reshape": [("to-images", {"target_shape": [2, 3, 2]}, (12,), True),
                ("images-to-images", {"target_shape": [3, 4, 1]}, (1, 3, 4), True)],
    "upsample2d": [("2x2", {}, (2, 3, 2), True), ("3x1", {"size": [3, 1]}, (1, 2, 3), True)],
    # recurrent layers: (steps, features) inputs, the last step and every step's output
    "simple_rnn": [("last", {"units": 3}, (5, 2), True),
                   ("sequences", {"units": 3, "return_sequences": True}, (4, 2), True),
                   ("relu", {"units": 2, "activation": "relu", "return_sequences": True}, (3, 2), True)],
    "lstm": [("last", {"units": 3}, (5, 2), True),
             ("sequences", {"units": 3, "return_sequences": True}, (4, 2), True),
             ("no-forget-bias", {"units": 2, "unit_forget_bias": False}, (3, 3), True)],
    "time_distributed": [("tanh", {"units": 3, "activation": "tanh"}, (4, 2), True),
                         ("softmax", {"units": 3, "activation": "softmax"}, (3, 5), True)],
}

CASES = [pytest.param(name, case, id=f"{name}-{case[0]}")
         for name in LAYERS.names() for case in LAYER_CASES.get(name, [])]


def make_layer(name: str, config: dict, input_shape: tuple, dtype=np.float64, seed: int = 1):
    cls = LAYERS.get(name)
    layer = cls(**resolve_params(cls.options, config, "layer"))
    layer.build(input_shape, np.random.default_rng(seed), dtype)
    return layer


def away_from_zero(rng, shape) -> np.ndarray:
    """Inputs with |x| >= 0.1, so relu/step kinks are never within eps of a sample."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 2.0, size=shape)


def test_every_registered_layer_has_a_test_case():
    missing = [name for name in LAYERS.names() if not LAYER_CASES.get(name)]
    assert not missing, f"add a LAYER_CASES entry for {missing}"


@pytest.mark.parametrize("name, case", CASES)
def test_layer_gradients_match_central_differences(name, case):
    _, config, shape, training = case
    layer = make_layer(name, config, shape)
    x = away_from_zero(np.random.default_rng(2), (BATCH,) + shape)
    errors = check_layer_gradients(layer, x, seed=3, training=training)
    assert set(errors) == {"input"} | set(layer.params)
    assert max(errors.values()) < TOLERANCE, errors


@pytest.mark.parametrize("name, case", CASES)
def test_backward_does_not_mutate_upstream_gradient(name, case):
    _, config, shape, training = case
    layer = make_layer(name, config, shape)
    rng = np.random.default_rng(4)
    out = layer.forward(away_from_zero(rng, (BATCH,) + shape), training=training)
    grad = rng.standard_normal(out.shape)
    kept = grad.copy()
    layer.backward(grad)
    np.testing.assert_array_equal(grad, kept)


@pytest.mark.parametrize("name, case", CASES)
def test_float32_layer_keeps_float32_and_declared_shapes(name, case):
    _, config, shape, training = case
    layer = make_layer(name, config, shape, dtype=np.float32)
    x = away_from_zero(np.random.default_rng(5), (BATCH,) + shape).astype(np.float32)
    out = layer.forward(x, training=training)
    assert out.shape == (BATCH,) + layer.output_shape
    assert out.dtype == np.float32
    assert layer.out is out
    dx = layer.backward(np.ones_like(out))
    assert dx.shape == x.shape and dx.dtype == np.float32
    for key, p in layer.params.items():
        assert p.dtype == np.float32
        assert layer.grads[key].shape == p.shape and layer.grads[key].dtype == np.float32, key


# ---- conv2d ----

def naive_conv(x, w, b, stride, pad):
    """Reference: explicit loops over samples, filters and output pixels (tests only)."""
    (sh, sw), (pt, pb, pl, pr) = stride, pad
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    n, f, kh, kw = x.shape[0], w.shape[0], w.shape[2], w.shape[3]
    ho, wo = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
    out = np.zeros((n, f, ho, wo))
    for s in range(n):
        for k in range(f):
            for i in range(ho):
                for j in range(wo):
                    patch = xp[s, :, i * sh : i * sh + kh, j * sw : j * sw + kw]
                    out[s, k, i, j] = np.sum(patch * w[k]) + b[k]
    return out


@pytest.mark.parametrize("config, pad", [
    ({"kernel_size": [3, 2]}, (0, 0, 0, 0)),
    ({"kernel_size": 3, "strides": 2}, (0, 0, 0, 0)),
    ({"kernel_size": 3, "padding": "same"}, (1, 1, 1, 1)),
    ({"kernel_size": 2, "padding": "same"}, (0, 1, 0, 1)),          # Keras puts the odd pad at the end
    ({"kernel_size": 3, "strides": 2, "padding": "same"}, (1, 1, 0, 1)),
], ids=["valid", "stride2", "same3", "same2", "same-stride2"])
def test_conv2d_matches_naive_loop_reference(config, pad):
    layer = make_layer("conv2d", {"filters": 3, "bias_initializer": "random_normal", **config}, (2, 5, 6))
    x = np.random.default_rng(6).standard_normal((2, 2, 5, 6))
    expected = naive_conv(x, layer.params["W"], layer.params["b"], (layer.sh, layer.sw), pad)
    out = layer.forward(x)
    assert out.shape == expected.shape == (2,) + layer.output_shape
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_conv2d_same_padding_with_stride_1_keeps_height_and_width():
    layer = make_layer("conv2d", {"filters": 4, "kernel_size": 5, "padding": "same"}, (1, 28, 28))
    assert layer.output_shape == (4, 28, 28)
    assert make_layer("conv2d", {"filters": 4, "kernel_size": 3}, (1, 28, 28)).output_shape == (4, 26, 26)


def test_conv2d_weights_follow_the_design_layout():
    layer = make_layer("conv2d", {"filters": 8, "kernel_size": [3, 2]}, (5, 9, 9))
    assert layer.params["W"].shape == (8, 5, 3, 2) and layer.params["b"].shape == (8,)


@pytest.mark.parametrize("config, shape, words", [
    ({"kernel_size": 5}, (1, 4, 8), "kernel_size"),
    ({"kernel_size": 3}, (16,), "images"),
    ({"kernel_size": [3, 3, 3]}, (1, 8, 8), "kernel_size"),
])
def test_conv2d_rejects_impossible_shapes_with_a_spec_error(config, shape, words):
    with pytest.raises(SpecError, match=words):
        make_layer("conv2d", {"filters": 2, **config}, shape)


# ---- pooling ----

def test_maxpool_and_avgpool_known_outputs():
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(make_layer("maxpool2d", {}, (1, 4, 4)).forward(x)[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(make_layer("avgpool2d", {}, (1, 4, 4)).forward(x)[0, 0],
                                  [[2.5, 4.5], [10.5, 12.5]])
    overlapping = make_layer("maxpool2d", {"pool_size": 3, "strides": 1}, (1, 4, 4)).forward(x)
    np.testing.assert_array_equal(overlapping[0, 0], [[10, 11], [14, 15]])


def test_maxpool_backward_routes_gradient_to_first_maximum_only():
    layer = make_layer("maxpool2d", {}, (1, 2, 4))
    x = np.array([[[[1.0, 1.0, 0.0, 3.0], [1.0, 0.0, 2.0, 1.0]]]])  # window 0 ties, window 1 max at top right
    layer.forward(x)
    dx = layer.backward(np.array([[[[5.0, 7.0]]]]))
    np.testing.assert_array_equal(dx[0, 0], [[5, 0, 0, 7], [0, 0, 0, 0]])


def test_pooling_drops_rows_and_columns_that_do_not_fill_a_window():
    layer = make_layer("maxpool2d", {}, (1, 5, 5))
    assert layer.output_shape == (1, 2, 2)
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 4, :] = 100.0  # last row is outside every window
    assert layer.forward(x).max() == 0
    assert layer.backward(np.ones((1, 1, 2, 2)))[0, 0, 4].sum() == 0


@pytest.mark.parametrize("name", ["maxpool2d", "avgpool2d"])
def test_pooling_rejects_windows_larger_than_the_image(name):
    with pytest.raises(SpecError, match="pool_size"):
        make_layer(name, {"pool_size": 3}, (1, 2, 8))


# ---- dropout ----

def test_dropout_is_identity_when_not_training(rng):
    layer = make_layer("dropout", {"rate": 0.5}, (100,), dtype=np.float32)
    x = rng.standard_normal((8, 100)).astype(np.float32)
    np.testing.assert_array_equal(layer.forward(x, training=False), x)


@pytest.mark.parametrize("rate", [0.2, 0.5, 0.8])
def test_dropout_zeroes_about_rate_of_units_and_scales_the_rest(rate):
    layer = make_layer("dropout", {"rate": rate}, (1000,), dtype=np.float32)
    x = np.ones((20, 1000), dtype=np.float32)
    out = layer.forward(x, training=True)
    dropped = np.mean(out == 0)
    assert abs(dropped - rate) < 0.02
    np.testing.assert_allclose(out[out != 0], 1 / (1 - rate), rtol=1e-6)


# ---- batchnorm ----

@pytest.mark.parametrize("shape, axes", [((6,), (0,)), ((3, 5, 5), (0, 2, 3))], ids=["features", "images"])
def test_batchnorm_training_output_has_zero_mean_unit_variance_per_channel(shape, axes):
    layer = make_layer("batchnorm", {"epsilon": 1e-8}, shape)
    x = 3.0 + 2.0 * np.random.default_rng(7).standard_normal((32,) + shape)
    out = layer.forward(x, training=True)
    np.testing.assert_allclose(out.mean(axis=axes), 0, atol=1e-10)
    np.testing.assert_allclose(out.var(axis=axes), 1, rtol=1e-6)


def test_batchnorm_moves_running_statistics_keras_style():
    layer = make_layer("batchnorm", {"momentum": 0.9}, (2,))
    x = np.array([[1.0, 10.0], [3.0, 20.0]])
    layer.forward(x, training=True)
    np.testing.assert_allclose(layer.state["running_mean"], 0.1 * np.array([2.0, 15.0]))
    np.testing.assert_allclose(layer.state["running_var"], 0.9 + 0.1 * np.array([1.0, 25.0]))


def test_batchnorm_inference_uses_running_statistics_not_the_batch():
    layer = make_layer("batchnorm", {"epsilon": 1e-3}, (2, 1, 1))
    layer.state["running_mean"][...] = [1.0, -2.0]
    layer.state["running_var"][...] = [4.0, 0.25]
    layer.params["gamma"][...] = [2.0, 1.0]
    layer.params["beta"][...] = [0.5, 0.0]
    x = np.array([[[[3.0]], [[-1.0]]]])  # (1, 2, 1, 1): one sample has no batch variance at all
    out = layer.forward(x, training=False)
    expected = [2.0 * (3.0 - 1.0) / np.sqrt(4.001) + 0.5, (-1.0 + 2.0) / np.sqrt(0.251)]
    np.testing.assert_allclose(out.reshape(-1), expected)
    np.testing.assert_array_equal(layer.state["running_mean"], [1.0, -2.0])  # inference leaves them alone


def test_batchnorm_rejects_two_dimensional_samples():
    with pytest.raises(SpecError, match="batchnorm"):
        make_layer("batchnorm", {}, (4, 4))


# ---- maxout ----

def test_maxout_outputs_the_largest_of_its_pieces():
    layer = make_layer("maxout", {"units": 3, "pieces": 4, "bias_initializer": "random_normal"}, (5,))
    x = np.random.default_rng(8).standard_normal((6, 5))
    z = (x @ layer.params["W"] + layer.params["b"]).reshape(6, 3, 4)
    np.testing.assert_allclose(layer.forward(x), z.max(axis=-1))
    assert layer.params["W"].shape == (5, 12)


def test_maxout_has_no_activation_option():
    assert "activation" not in {p.name for p in LAYERS.get("maxout").options}
    with pytest.raises(SpecError, match="activation"):
        resolve_params(LAYERS.get("maxout").options, {"activation": "relu"}, "layer")


# ---- the gradient-check utility itself ----

def test_numerical_gradient_matches_a_known_derivative():
    x = np.array([[-1.5, 0.5], [2.0, 3.0]])
    numeric = numerical_gradient(lambda v: float(np.sum(v ** 3)), x.copy())
    np.testing.assert_allclose(numeric, 3 * x ** 2, rtol=1e-8)


def test_relative_error_is_zero_for_equal_or_all_zero_arrays_and_ignores_scale():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert relative_error(np.array([1e-8, 0.0]), np.array([2e-8, 0.0])) == pytest.approx(1 / 3)


def test_gradient_check_catches_a_wrong_backward():
    layer = make_layer("dense", {"units": 3}, (4,))
    real_backward = layer.linear_backward

    def off_by_two(gz):
        dx = real_backward(gz)
        layer.grads["W"] = 2 * layer.grads["W"]
        return dx

    layer.linear_backward = off_by_two
    errors = check_layer_gradients(layer, np.random.default_rng(0).standard_normal((4, 4)), seed=1)
    assert errors["W"] > 0.1 and errors["input"] < TOLERANCE and errors["b"] < TOLERANCE


def test_gradient_check_holds_the_dropout_mask_fixed():
    layer = make_layer("dropout", {"rate": 0.5}, (50,))
    errors = check_layer_gradients(layer, np.random.default_rng(0).standard_normal((4, 50)), seed=1)
    assert errors["input"] < TOLERANCE
    assert 0.3 < np.mean(layer.mask == 0) < 0.7  # the check really ran with units dropped


# ---- upsample2d and reshape (a conv decoder's way back up) ----
def test_upsample2d_repeats_each_pixel_into_a_block_and_sums_the_gradient_back():
    layer = make_layer("upsample2d", {"size": [2, 3]}, (1, 2, 2))
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    out = layer.forward(x)
    assert out.shape == (1, 1, 4, 6)
    assert out[0, 0].tolist() == [[1, 1, 1, 2, 2, 2]] * 2 + [[3, 3, 3, 4, 4, 4]] * 2
    grad = np.arange(24, dtype=float).reshape(1, 1, 4, 6)
    back = layer.backward(grad)
    assert back[0, 0].tolist() == [[grad[0, 0, :2, :3].sum(), grad[0, 0, :2, 3:].sum()],
                                   [grad[0, 0, 2:, :3].sum(), grad[0, 0, 2:, 3:].sum()]]


def test_reshape_refuses_a_target_with_another_number_of_values():
    with pytest.raises(SpecError, match="reshape to \\[2, 3, 3\\] needs 18 values"):
        make_layer("reshape", {"target_shape": [2, 3, 3]}, (12,))
    with pytest.raises(SpecError, match="upsample2d needs images"):
        make_layer("upsample2d", {}, (12,))
