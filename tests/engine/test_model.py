"""Model building, parameter keys, explicit weights, save/load without pickle, summaries."""
import numpy as np
import pytest

import engine
from engine.gradcheck import numerical_gradient, relative_error

MLP = {"input_shape": [2], "layers": [{"type": "dense", "units": 3, "activation": "tanh"},
                                      {"type": "dense", "units": 2, "activation": "softmax"}],
       "loss": "categorical_crossentropy"}


def test_param_and_grad_keys_follow_layer_index():
    spec = {**MLP, "layers": [MLP["layers"][0], {"type": "dropout", "rate": 0.1}, MLP["layers"][1]]}
    model = engine.build_model(spec)
    assert list(model.params) == ["0.W", "0.b", "2.W", "2.b"]
    model.loss_and_backward(np.ones((4, 2), np.float32), np.array([0, 1, 0, 1]))
    assert list(model.grads) == list(model.params)
    assert all(model.grads[k].shape == model.params[k].shape for k in model.params)


def test_float32_by_default_and_float64_on_request():
    assert engine.build_model(MLP).params["0.W"].dtype == np.float32
    assert engine.build_model({**MLP, "dtype": "float64"}).params["0.W"].dtype == np.float64


def test_whole_model_gradient_check_float64_with_fused_softmax(rng):
    model = engine.build_model({**MLP, "dtype": "float64"}, seed=3)
    x, y = rng.normal(size=(5, 2)), rng.integers(0, 2, size=5)

    def loss_of(w, key):
        model.params[key][...] = w
        out = model.forward(x)
        return model.loss.value(out, model.loss.targets(y, out))

    model.loss_and_backward(x, y)
    grads = {k: g.copy() for k, g in model.grads.items()}
    for key, p in model.params.items():
        original = p.copy()
        numeric = numerical_gradient(lambda w: loss_of(w, key), original.copy())
        model.params[key][...] = original
        assert relative_error(grads[key], numeric) < 1e-6, key


def test_explicit_weights_reproduce_a_hand_worked_example():
    # a perceptron for AND: step(x1 + x2 - 1.5)
    spec = {"input_shape": [2], "loss": "mean_squared_error",
            "layers": [{"type": "dense", "units": 1, "activation": "step",
                        "weights": {"W": [[1.0], [1.0]], "b": [-1.5]}}]}
    model = engine.build_model(spec)
    out = model.forward(np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32))
    assert out[:, 0].tolist() == [0, 0, 0, 1]


def test_explicit_weights_with_wrong_shape_name_the_field():
    spec = {"input_shape": [2], "loss": "mean_squared_error",
            "layers": [{"type": "dense", "units": 1, "weights": {"W": [[1.0, 2.0]]}}]}
    with pytest.raises(engine.SpecError, match=r"model\.layers\.0\.weights\.W: has shape \[1, 2\] but this layer needs \[2, 1\]"):
        engine.build_model(spec)


def test_save_load_round_trip_gives_identical_predictions(tmp_path, rng):
    model = engine.build_model(MLP, seed=1)
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = engine.load_model(path)
    x = rng.normal(size=(7, 2))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.spec == model.spec
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temp files left


def test_load_refuses_pickled_content(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, meta_json=np.array([{"a": 1}], dtype=object))
    with pytest.raises(engine.SpecError, match="not a readable"):
        engine.load_model(path)


def test_load_rejects_a_file_that_is_not_a_model(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(engine.SpecError):
        engine.load_model(path)


def test_summary_counts_parameters():
    model = engine.build_model(MLP)
    assert [r["params"] for r in model.summary()] == [9, 8]
    assert model.n_params() == 17
    assert "dense 3 tanh" in model.summary_text()


def test_dense_after_images_asks_for_flatten():
    spec = {"input_shape": [1, 28, 28], "loss": "mean_squared_error", "layers": [{"type": "dense", "units": 2}]}
    with pytest.raises(engine.SpecError, match=r"model\.layers\.0.*add a flatten layer"):
        engine.build_model(spec)


def test_same_seed_same_weights_and_different_seed_different():
    a, b, c = (engine.build_model(MLP, seed=s).get_weights() for s in (5, 5, 6))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["0.W"], c["0.W"])


@pytest.mark.parametrize("shape,layers", [
    ([1, 12, 12], [{"type": "conv2d", "filters": 4, "kernel_size": 3}, {"type": "batchnorm"}, {"type": "maxpool2d"},
                   {"type": "flatten"}, {"type": "maxout", "units": 3, "pieces": 2}, {"type": "dense", "units": 2}]),
    ([3], [{"type": "dense", "units": 5}, {"type": "batchnorm"}, {"type": "dropout"}, {"type": "dense", "units": 2}]),
])
def test_parameter_count_from_shapes_equals_the_built_model(shape, layers):
    from engine.model import count_params, normalize_model_spec
    spec = {"input_shape": shape, "layers": layers, "loss": "mean_squared_error"}
    assert count_params(normalize_model_spec(spec)) == engine.build_model(spec).n_params()
