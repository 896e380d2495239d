"""What a model's outputs mean is decided once, by its loss (with the final activation): labels and
probabilities for training metrics, the boundary, /predict, evaluation and the digit reader alike."""
import numpy as np
import pytest

import engine
from engine.gradcheck import numerical_gradient, relative_error
from engine.losses import LOSSES, make_loss
from engine.metrics import accuracy
from engine.model import count_params
from engine.optimizers import make_optimizer


def _gate_job(loss, units=1, activation="linear", epochs=200, **training):
    return {"dataset": {"name": "xor_gate"},
            "model": {"layers": [{"type": "dense", "units": 8, "activation": "tanh"},
                                 {"type": "dense", "units": units, "activation": activation}], "loss": loss},
            "training": {"optimizer": {"name": "adam", "learning_rate": 0.05}, "batch_size": None,
                         "epochs": epochs, "seed": 1, **training}}


def test_one_output_hinge_model_labels_by_the_sign_of_its_score():
    loss = make_loss("hinge", final_activation="linear")
    scores = np.array([[0.7], [-0.2], [0.0], [2.5]])
    assert loss.labels(scores).tolist() == [1, 0, 0, 1]
    probs = loss.probabilities(scores)
    assert probs.shape == (4, 2) and np.allclose(probs.sum(axis=1), 1)
    assert (probs[:, 1] > 0.5).tolist() == [True, False, False, True]


def test_predict_route_labels_agree_with_the_engine_for_a_one_output_hinge_model():
    # today's trap: the route took argmax of one column and answered [0, 0, 0, 0]
    from server.routers.jobs import _predict
    result = engine.train(_gate_job("hinge"))
    points = [[0, 0], [0, 1], [1, 0], [1, 1]]
    engine_labels = result.model.predict_labels(np.array(points, float)).tolist()
    assert engine_labels == [0, 1, 1, 0]                               # it learned xor
    body = _predict(result.model, points, max_rows=100)
    assert body["labels"] == engine_labels
    assert np.argmax(body["probabilities"], axis=1).tolist() == engine_labels


@pytest.mark.parametrize("loss,units,activation", [
    ("binary_crossentropy", 1, "sigmoid"), ("binary_crossentropy", 1, "linear"),
    ("categorical_crossentropy", 2, "softmax"), ("categorical_crossentropy", 2, "linear"),
    ("hinge", 2, "linear"), ("hinge", 1, "linear"), ("mean_squared_error", 1, "sigmoid"),
    ("perceptron", 1, "linear"),
])
def test_training_accuracy_is_the_accuracy_of_the_models_own_labels(loss, units, activation):
    result = engine.train(_gate_job(loss, units, activation, epochs=60))
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    labels = result.model.predict_labels(x)
    assert result.history[-1]["train_accuracy"] == accuracy(labels, np.array([0, 1, 1, 0]))
    probs = result.model.predict_proba(x)
    assert probs.shape == (4, 2) and np.allclose(probs.sum(axis=1), 1, atol=1e-6)
    assert (probs.argmax(axis=1) == labels).all()


def test_linear_output_with_categorical_crossentropy_trains_as_logits():
    # today's trap: the softmax-free output trained a broken classifier (59% on circle, tiny loss)
    spec = {"dataset": {"name": "circle", "n_samples": 400, "noise": 0.05, "seed": 2},
            "model": {"layers": [{"type": "dense", "units": 8, "activation": "tanh"},
                                 {"type": "dense", "units": 2, "activation": "linear"}],
                      "loss": "categorical_crossentropy"},
            "training": {"optimizer": {"name": "adam", "learning_rate": 0.03}, "epochs": 60, "seed": 0}}
    result = engine.train(spec)
    last = result.history[-1]
    assert last["test_accuracy"] > 0.95
    assert last["train_loss"] > 0                                      # a real cross-entropy, not a negative number


@pytest.mark.parametrize("name,k", [("categorical_crossentropy", 3), ("binary_crossentropy", 3)])
def test_logits_loss_gradient_matches_central_differences(name, k, rng):
    loss = make_loss(name, final_activation="linear")
    z = rng.normal(size=(5, k)) * 3
    y = rng.integers(0, k, size=5) if name == "categorical_crossentropy" else rng.integers(0, 2, size=(5, k))
    t = loss.targets(y, z)
    value, grad = loss.value_and_grad(z, t)
    assert value == pytest.approx(loss.value(z, t))
    assert relative_error(grad, numerical_gradient(lambda zz: loss.value(zz, t), z.copy())) < 1e-6


def test_logits_equal_probabilities_through_the_fused_activation(rng):
    z = rng.normal(size=(6, 4))
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    y = rng.integers(0, 4, size=6)
    logits, probs = make_loss("categorical_crossentropy", final_activation="linear"), make_loss(
        "categorical_crossentropy", final_activation="softmax")
    assert logits.value(z, logits.targets(y, z)) == pytest.approx(probs.value(p, probs.targets(y, p)), rel=1e-9)
    np.testing.assert_allclose(logits.probabilities(z), p, rtol=1e-9)


def test_half_squared_error_is_half_the_sum_of_squares_per_sample(rng):
    loss = make_loss("half_squared_error")
    out, t = np.array([[0.75136507, 0.77292847]]), np.array([[0.01, 0.99]])
    assert loss.value(out, t) == pytest.approx(0.298371109, abs=1e-9)  # the worked example's E_total
    np.testing.assert_allclose(loss.grad(out, t), out - t)             # no factor 2
    out, t = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    assert loss.value(out, t) == pytest.approx(0.5 * ((t - out) ** 2).sum() / 4)
    assert relative_error(loss.grad(out, t), numerical_gradient(lambda o: loss.value(o, t), out.copy())) < 1e-7


def test_hinge_margin_is_an_option():
    s = np.array([[3.2, 5.1, -1.7]])                                   # the lecture's cat scores, true class 0
    t = np.array([[1.0, 0, 0]])
    assert make_loss("hinge").value(s, t) == pytest.approx(2.9)        # max(0, 5.1-3.2+1) + max(0, -1.7-3.2+1)
    assert make_loss({"name": "hinge", "margin": 2}).value(s, t) == pytest.approx(3.9)
    with pytest.raises(engine.SpecError, match="model.loss.margin"):
        make_loss({"name": "hinge", "margin": -1})


def test_every_loss_has_a_formula_in_the_catalog():
    catalog = engine.catalog()
    for name in LOSSES.names():
        assert catalog["losses"][name]["formula"].startswith("L = "), name


def test_dense_without_bias_has_only_a_kernel(rng):
    model = engine.build_model({"input_shape": [3], "layers": [
        {"type": "dense", "units": 2, "use_bias": False, "weights": {"W": [[1, 0], [0, 1], [1, 1]]}}],
        "loss": "mean_squared_error"})
    assert list(model.params) == ["0.W"]
    np.testing.assert_allclose(model.forward(np.array([[1.0, 2.0, 3.0]])), [[4.0, 5.0]])
    model.loss_and_backward(np.array([[1.0, 2.0, 3.0]]), np.array([[0.0, 0.0]]))
    assert set(model.grads) == {"0.W"}
    assert count_params(model.spec) == 6


def test_the_classic_2_2_2_worked_example_gives_the_published_weights():
    # inputs 0.05/0.10, targets 0.01/0.99, sigmoid units, E = ½ Σ (t − out)², one SGD step at lr 0.5
    spec = {"input_shape": [2], "loss": "half_squared_error", "dtype": "float64", "layers": [
        {"type": "dense", "units": 2, "activation": "sigmoid",
         "weights": {"W": [[0.15, 0.25], [0.20, 0.30]], "b": [0.35, 0.35]}},
        {"type": "dense", "units": 2, "activation": "sigmoid",
         "weights": {"W": [[0.40, 0.50], [0.45, 0.55]], "b": [0.60, 0.60]}}]}
    model = engine.build_model(spec)
    loss, out = model.loss_and_backward(np.array([[0.05, 0.10]]), np.array([[0.01, 0.99]]))
    np.testing.assert_allclose(out, [[0.75136507, 0.772928465]], atol=1e-8)
    assert loss == pytest.approx(0.298371109, abs=1e-9)
    make_optimizer({"name": "sgd", "learning_rate": 0.5}).step(model.params, model.grads)
    w = model.params
    np.testing.assert_allclose(w["1.W"], [[0.35891648, 0.51130127], [0.408666186, 0.561370121]], atol=1e-8)
    np.testing.assert_allclose(w["0.W"], [[0.149780716, 0.24975114], [0.19956143, 0.29950229]], atol=1e-8)


def _circle_spec(activation, loss="categorical_crossentropy", units=2):
    return {"dataset": {"name": "circle", "n_samples": 100},
            "model": {"layers": [{"type": "dense", "units": 4, "activation": "tanh"},
                                 {"type": "dense", "units": units, "activation": activation}], "loss": loss}}


@pytest.mark.parametrize("loss,units", [("categorical_crossentropy", 2), ("binary_crossentropy", 1)])
def test_cross_entropy_after_an_output_it_cannot_read_is_refused_with_the_reason(loss, units):
    problems = engine.validate(_circle_spec("relu", loss, units))
    assert [p.path for p in problems] == ["model.loss"]
    assert "linear" in problems[0].message and "relu" in problems[0].message


@pytest.mark.parametrize("activation", ["softmax", "linear"])
def test_cross_entropy_after_softmax_or_logits_is_valid_and_not_warned_about(activation):
    spec = _circle_spec(activation)
    assert engine.validate(spec) == []
    assert [p for p in engine.advise(engine.normalize(spec)) if p.path == "model.loss"] == []


def test_the_worked_example_job_the_readme_runs_gives_the_published_numbers():
    import json
    from pathlib import Path
    spec = json.loads((Path(__file__).resolve().parents[2] / "examples" / "backprop_222.json").read_text())
    result = engine.train(spec)
    assert result.history[0]["train_loss"] == pytest.approx(0.298371109, abs=5e-9)   # published to 9 places
    w = result.model.params
    np.testing.assert_allclose(w["0.W"], [[0.149780716, 0.249751144], [0.199561432, 0.299502287]], atol=1e-9)
    np.testing.assert_allclose(w["1.W"], [[0.35891648, 0.511301271], [0.408666186, 0.561370122]], atol=1e-9)
