"""Max-pool fast backward for non-overlapping windows: bit-identical to the general path.

Inputs are built to hold many exact ties (relu zeros, small integers, signed zeros), because tie
routing (first maximum in row-major window order) is where a fast path can silently differ.
"""
from __future__ import annotations

import numpy as np
import pytest

from engine.layers.pooling import MaxPool2D
from engine.params import resolve_params

# (case id, config, per-sample input shape); all windows here are disjoint
DISJOINT = [
    ("2x2-even", {"pool_size": 2}, (3, 8, 6)),
    ("2x2-odd", {"pool_size": 2}, (3, 7, 9)),
    ("3x2-odd", {"pool_size": [3, 2]}, (2, 10, 7)),
    ("3x3-gaps", {"pool_size": 3, "strides": [4, 3]}, (2, 11, 10)),
    ("2x2-stride3-gaps", {"pool_size": 2, "strides": 3}, (2, 9, 8)),
    ("1x1", {"pool_size": 1}, (2, 3, 4)),
]
CASES = [pytest.param(config, shape, id=case) for case, config, shape in DISJOINT]
DTYPES = [pytest.param(np.float32, id="float32"), pytest.param(np.float64, id="float64")]
BATCH = 5


def make_pool(config: dict, shape: tuple, dtype) -> MaxPool2D:
    layer = MaxPool2D(**resolve_params(MaxPool2D.options, config, "layer"))
    layer.build(shape, np.random.default_rng(0), dtype)
    return layer


def tied_inputs(kind: str, shape: tuple, dtype, rng) -> np.ndarray:
    """(N, C, H, W) inputs where many windows hold their max more than once."""
    if kind == "relu":
        return np.maximum(rng.standard_normal(shape), 0).astype(dtype)  # ~3/4 of 2x2 windows tie at 0 or not
    if kind == "integers":
        return rng.integers(0, 3, size=shape).astype(dtype)  # images with a few grey levels
    values = np.array([-0.0, 0.0, -1.0, np.nan, np.inf], dtype=dtype)  # signed-zero ties, nan and inf maxima
    return rng.choice(values, size=shape, p=[0.35, 0.35, 0.2, 0.05, 0.05])


def assert_same_bits(actual: np.ndarray, expected: np.ndarray):
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    bits = np.dtype(f"u{actual.dtype.itemsize}")
    np.testing.assert_array_equal(actual.view(bits), expected.view(bits))


def window_max(x: np.ndarray, layer: MaxPool2D) -> np.ndarray:
    """Reference forward: each window gathered explicitly, then max over it."""
    n, c = x.shape[:2]
    out = np.empty((n, c, layer.ho, layer.wo), x.dtype)
    for r in range(layer.ho):
        for q in range(layer.wo):
            rows, cols = slice(r * layer.sh, r * layer.sh + layer.ph), slice(q * layer.sw, q * layer.sw + layer.pw)
            out[:, :, r, q] = x[:, :, rows, cols].max(axis=(2, 3))
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config, shape", CASES)
@pytest.mark.parametrize("kind", ["relu", "integers", "signed-zeros-nan-inf"])
def test_disjoint_backward_is_bit_identical_to_general_path_on_tied_inputs(kind, config, shape, dtype):
    rng = np.random.default_rng(7)
    layer = make_pool(config, shape, dtype)
    x = tied_inputs(kind, (BATCH, *shape), dtype, rng)
    out = layer.forward(x, training=True)
    grad = rng.standard_normal(out.shape).astype(dtype)
    grad[..., 0] = -grad[..., 0]  # both signs, so a float multiply by 0 would show up as -0.0
    grad.flags.writeable = False  # the upstream gradient must never be written to

    assert_same_bits(layer.backward(grad), layer.backward_general(grad))
    if kind != "signed-zeros-nan-inf":  # max of signed zeros may pick either sign; nan has no order
        np.testing.assert_array_equal(out, window_max(x, layer))


@pytest.mark.parametrize("dtype", DTYPES)
def test_tied_window_sends_gradient_to_its_first_maximum_in_row_major_order(dtype):
    layer = make_pool({"pool_size": 2}, (1, 2, 6), dtype)
    x = np.array([[[[0, 3, 3, 1, 2, 2],
                    [3, 3, 3, 0, 2, 2]]]], dtype=dtype)  # windows: max 3 at (0,1); at (0,0); all tie
    layer.forward(x, training=True)
    dx = layer.backward(np.array([[[[5, 7, 9]]]], dtype=dtype))
    np.testing.assert_array_equal(dx[0, 0], [[0, 5, 7, 0, 9, 0], [0, 0, 0, 0, 0, 0]])


def test_window_whose_max_is_nan_sends_gradient_to_its_last_offset():
    layer = make_pool({"pool_size": 2}, (1, 2, 2), np.float32)
    layer.forward(np.array([[[[1, np.nan], [2, 0]]]], dtype=np.float32), training=True)
    dx = layer.backward(np.array([[[[4]]]], dtype=np.float32))
    np.testing.assert_array_equal(dx[0, 0], [[0, 0], [0, 4]])  # as the general argmax, which defaults to last


@pytest.mark.parametrize("config, shape", CASES)
def test_disjoint_windows_take_the_fast_path_without_an_argmax_pass(config, shape, monkeypatch):
    layer = make_pool(config, shape, np.float32)
    out = layer.forward(np.ones((2, *shape), np.float32), training=True)
    monkeypatch.setattr(layer, "first_argmax", lambda: pytest.fail("general argmax used for disjoint windows"))
    layer.backward(np.ones_like(out))


def test_overlapping_windows_keep_the_general_path_that_adds_up_shared_pixels():
    layer = make_pool({"pool_size": 3, "strides": 1}, (1, 4, 4), np.float64)
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = 1.0  # the max of all four windows
    layer.forward(x, training=True)
    dx = layer.backward(np.ones((1, 1, 2, 2)))
    assert dx[0, 0, 1, 1] == 4 and dx.sum() == 4
