"""Initializers: shapes, dtypes, seeded determinism and the variances their formulas promise."""
from __future__ import annotations

import numpy as np
import pytest

from engine.errors import SpecError, UnknownNameError
from engine.initializers import INITIALIZERS, initialize

NAMES = INITIALIZERS.names()
FAN_IN, FAN_OUT = 200, 300
SHAPE = (FAN_IN, FAN_OUT)  # 60k draws: the sample variance is within ~1% of the true one

# name -> (expected mean, expected variance) for default options at (FAN_IN, FAN_OUT)
MOMENTS = {
    "zeros": (0.0, 0.0),
    "ones": (1.0, 0.0),
    "constant": (0.0, 0.0),
    "random_normal": (0.0, 0.01 ** 2),
    "random_uniform": (0.0, 0.1 ** 2 / 12),
    "lecun_normal": (0.0, 1.0 / FAN_IN),
    "glorot_normal": (0.0, 2.0 / (FAN_IN + FAN_OUT)),
    "glorot_uniform": (0.0, 2.0 / (FAN_IN + FAN_OUT)),
    "he_normal": (0.0, 2.0 / FAN_IN),
    "he_uniform": (0.0, 2.0 / FAN_IN),
    "orthogonal": (0.0, 1.0 / max(FAN_IN, FAN_OUT)),   # unit-norm rows: mean square 1 / cols
}


def test_every_registered_initializer_has_expected_moments():
    missing = [name for name in NAMES if name not in MOMENTS]
    assert not missing, f"add a MOMENTS entry for {missing}"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_initializer_gives_requested_shape_and_dtype(name, dtype):
    w = initialize(name, (3, 4, 2), np.random.default_rng(0), 8, 6, dtype)
    assert w.shape == (3, 4, 2) and w.dtype == dtype


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_gives_identical_weights(name):
    a = initialize(name, (5, 7), np.random.default_rng(42), 5, 7, np.float32)
    b = initialize(name, (5, 7), np.random.default_rng(42), 5, 7, np.float32)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_initializer_mean_and_variance_match_the_formula(name):
    w = initialize(name, SHAPE, np.random.default_rng(3), FAN_IN, FAN_OUT, np.float64)
    mean, var = MOMENTS[name]
    if var == 0:
        np.testing.assert_array_equal(w, mean)
        return
    assert abs(w.var() / var - 1) < 0.03, f"variance {w.var():.3g}, formula {var:.3g}"
    assert abs(w.mean() - mean) < 0.05 * np.sqrt(var)


@pytest.mark.parametrize("name", [n for n in NAMES if MOMENTS.get(n, (0, 0))[1] > 0])
def test_random_initializers_differ_between_seeds(name):
    a = initialize(name, (5, 7), np.random.default_rng(1), 5, 7, np.float64)
    b = initialize(name, (5, 7), np.random.default_rng(2), 5, 7, np.float64)
    assert not np.array_equal(a, b)


def test_uniform_initializers_stay_within_their_limits():
    limit = np.sqrt(6.0 / (FAN_IN + FAN_OUT))
    w = initialize("glorot_uniform", SHAPE, np.random.default_rng(4), FAN_IN, FAN_OUT, np.float64)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    w = initialize("he_uniform", SHAPE, np.random.default_rng(4), FAN_IN, FAN_OUT, np.float64)
    assert np.abs(w).max() <= np.sqrt(6.0 / FAN_IN)


def test_initializer_options_come_from_a_dict_spec():
    w = initialize({"name": "random_normal", "stddev": 0.5, "mean": 2.0}, SHAPE, np.random.default_rng(5),
                   FAN_IN, FAN_OUT, np.float64)
    assert abs(w.std() - 0.5) < 0.01 and abs(w.mean() - 2.0) < 0.01
    np.testing.assert_array_equal(initialize({"name": "constant", "value": 0.3}, (2, 2), None, 2, 2, np.float64), 0.3)


def test_bad_initializer_specs_name_the_field():
    with pytest.raises(UnknownNameError) as info:
        initialize("xavier", (2, 2), np.random.default_rng(0), 2, 2, np.float32, "model.layers.0.kernel_initializer")
    assert "glorot_uniform" in str(info.value)
    with pytest.raises(SpecError) as info:
        initialize({"name": "random_normal", "stddev": -1}, (2, 2), np.random.default_rng(0), 2, 2, np.float32,
                   "model.layers.0.kernel_initializer")
    assert info.value.problems[0].path == "model.layers.0.kernel_initializer.stddev"


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4)])
def test_orthogonal_has_orthonormal_rows_or_columns(shape):
    w = initialize("orthogonal", shape, np.random.default_rng(6), *shape, np.float64)
    small = w @ w.T if shape[0] <= shape[1] else w.T @ w
    np.testing.assert_allclose(small, np.eye(min(shape)), atol=1e-12)
