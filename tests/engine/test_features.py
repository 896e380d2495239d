"""Input features: known values for every registered feature, order, errors."""
import numpy as np
import pytest

from engine.datasets import FEATURES, apply_features
from engine.errors import SpecError, UnknownNameError

POINTS = np.array([[1.0, 2.0], [-3.0, 0.5], [0.0, -1.0]], np.float32)
x1, x2 = POINTS[:, 0].astype(np.float64), POINTS[:, 1].astype(np.float64)
EXPECTED = {"x1": x1, "x2": x2, "x1^2": x1 ** 2, "x2^2": x2 ** 2, "x1*x2": x1 * x2,
            "sin(x1)": np.sin(x1), "sin(x2)": np.sin(x2)}


def test_every_registered_feature_has_a_known_value_test():
    assert sorted(FEATURES.names()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", FEATURES.names())
def test_feature_values(name):
    out = apply_features(POINTS, [name])
    assert out.shape == (3, 1) and out.dtype == np.float32
    assert np.allclose(out[:, 0], EXPECTED[name], rtol=1e-6)
    assert FEATURES.get(name).doc


def test_default_features_are_the_raw_coordinates():
    assert np.array_equal(apply_features(POINTS), POINTS)


def test_columns_follow_the_requested_order():
    out = apply_features(POINTS, ["sin(x2)", "x1*x2", "x1"])
    assert np.allclose(out, np.stack([EXPECTED["sin(x2)"], EXPECTED["x1*x2"], EXPECTED["x1"]], 1), rtol=1e-6)


def test_unknown_feature_lists_valid_names():
    with pytest.raises(UnknownNameError) as e:
        apply_features(POINTS, ["x3"])
    assert "x1^2" in str(e.value)


@pytest.mark.parametrize("names", [[], "x1", ["x1", "x1"]])
def test_bad_feature_lists_are_spec_errors(names):
    with pytest.raises(SpecError):
        apply_features(POINTS, names)


def test_points_must_be_two_columns():
    with pytest.raises(SpecError, match="N, 2"):
        apply_features(np.zeros((3, 3)), ["x1"])
