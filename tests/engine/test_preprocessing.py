"""Preprocessing: statistics fitted on train only, known results, constant features, state round-trips."""
import numpy as np
import pytest

from engine.errors import SpecError, UnknownNameError
from engine.preprocessing import PREPROCESSORS, make_preprocessor, preprocessor_from_state

NAMES = PREPROCESSORS.names()


def correlated(n=2000, seed=0):
    """(n, 3) data with different means, scales and a strong correlation between columns 0 and 1."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 3))
    return (z @ np.array([[3.0, 1.0, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, 2.0]]) + [5.0, -2.0, 0.5]).astype(np.float32)


@pytest.mark.parametrize("name", NAMES)
def test_every_preprocessor_keeps_shape_gives_float32_and_documents_itself(name):
    x = correlated(200)
    y = make_preprocessor(name).fit(x).transform(x)
    assert y.shape == x.shape and y.dtype == np.float32 and np.all(np.isfinite(y))
    assert PREPROCESSORS.get(name).doc


@pytest.mark.parametrize("name", NAMES)
def test_state_round_trip_gives_the_same_transform(name, tmp_path):
    x, new = correlated(300, seed=1), correlated(50, seed=2)
    p = make_preprocessor(name).fit(x)
    state = p.state()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    np.savez(tmp_path / "s.npz", **state)
    with np.load(tmp_path / "s.npz", allow_pickle=False) as f:
        q = preprocessor_from_state(name, dict(f))
    assert np.allclose(q.transform(new), p.transform(new), atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_constant_features_never_give_nan(name):
    x = correlated(100)
    x[:, 1] = 4.0
    y = make_preprocessor(name).fit(x).transform(x)
    assert np.all(np.isfinite(y))


@pytest.mark.parametrize("name", NAMES)
def test_images_are_fitted_per_pixel_and_keep_their_shape(name):
    rng = np.random.default_rng(0)
    x = rng.random((60, 1, 4, 4)).astype(np.float32)
    x[:, :, 0, 0] = 0.0                                           # a constant border pixel, as in MNIST
    p = make_preprocessor(name).fit(x)
    y = p.transform(x)
    assert y.shape == (60, 1, 4, 4) and np.all(np.isfinite(y))
    assert np.allclose(p.transform(x.reshape(60, 16)).reshape(x.shape), y)


@pytest.mark.parametrize("name", NAMES)
def test_statistics_come_from_the_training_set_only(name):
    train, test = correlated(500, seed=3), correlated(500, seed=4) * 3 + 10
    p = make_preprocessor(name).fit(train)
    refit = make_preprocessor(name).fit(test)
    assert not np.allclose(p.transform(test), refit.transform(test), atol=1e-2)


def test_standardize_gives_zero_mean_unit_std_on_train():
    y = make_preprocessor("standardize").fit_transform(correlated())
    assert np.allclose(y.mean(axis=0), 0, atol=1e-5) and np.allclose(y.std(axis=0), 1, atol=1e-4)


def test_center_subtracts_the_train_mean_only():
    x = correlated()
    y = make_preprocessor("center").fit_transform(x)
    assert np.allclose(y.mean(axis=0), 0, atol=1e-4) and np.allclose(y.std(axis=0), x.std(axis=0), rtol=1e-4)


@pytest.mark.parametrize("low,high", [(0, 1), (-1, 1)])
def test_minmax_maps_train_to_the_feature_range(low, high):
    x = correlated()
    y = make_preprocessor({"name": "minmax", "feature_range": [low, high]}).fit_transform(x)
    assert np.allclose(y.min(axis=0), low, atol=1e-6) and np.allclose(y.max(axis=0), high, atol=1e-6)


def test_minmax_known_values():
    p = make_preprocessor({"name": "minmax", "feature_range": [-1, 1]}).fit(np.array([[0.0], [4.0]]))
    assert p.transform(np.array([[0.0], [1.0], [4.0], [8.0]])).ravel().tolist() == [-1.0, -0.5, 1.0, 3.0]


def test_pca_whiten_gives_identity_covariance_on_train():
    y = make_preprocessor("pca_whiten").fit_transform(correlated()).astype(np.float64)
    assert np.allclose(np.cov(y, rowvar=False, bias=True), np.eye(3), atol=1e-3)
    assert np.allclose(y.mean(axis=0), 0, atol=1e-4)


def test_pca_whiten_epsilon_shrinks_small_directions():
    x = correlated()
    small = make_preprocessor({"name": "pca_whiten", "epsilon": 1e-5}).fit_transform(x)
    large = make_preprocessor({"name": "pca_whiten", "epsilon": 1.0}).fit_transform(x)
    assert large.var(axis=0).max() < 1.0 and small.var(axis=0).min() > 0.99


@pytest.mark.parametrize("spec,path", [
    ("zca", "dataset.preprocessing"),             # a bare name is the field itself, as for activations
    ({"name": "zca"}, "dataset.preprocessing.name"),
    ({"name": "minmax", "feature_range": [1, 0]}, "dataset.preprocessing.feature_range"),
    ({"name": "pca_whiten", "epsilon": 0}, "dataset.preprocessing.epsilon"),
    ({"name": "standardize", "axis": 1}, "dataset.preprocessing.axis"),
    (3, "dataset.preprocessing"),
])
def test_bad_preprocessing_specs_name_the_field(spec, path):
    with pytest.raises(SpecError) as e:
        make_preprocessor(spec)
    assert e.value.problems[0].path == path


def test_unknown_preprocessing_lists_the_valid_names():
    with pytest.raises(UnknownNameError, match="standardize"):
        make_preprocessor({"name": "whiten"})


def test_null_preprocessing_is_none():
    assert make_preprocessor(None) is None


def test_transform_before_fit_is_an_error():
    with pytest.raises(RuntimeError, match="fitted"):
        make_preprocessor("standardize").transform(np.zeros((2, 2)))
