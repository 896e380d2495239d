"""The backprop lesson's network step: the lectures' published numbers, computed by the engine's own layers,
loss and optimizer, with every per-layer gradient consistent with the model's and with finite differences."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import engine
from engine.errors import SpecError
from engine.lessons.backprop import NETWORK_PRESETS, SATURATED_NEURON, backprop_step
from engine.limits import Limits

PRESETS = {p["name"]: p for p in NETWORK_PRESETS}


def step(name, **change):
    p = {**copy.deepcopy(PRESETS[name]), **change}
    return backprop_step(p["model"], p["x"], p["y"], p["learning_rate"])


@pytest.fixture(scope="module")
def mazur():
    return step("mazur_222")


def test_the_222_network_forward_values_are_the_published_ones(mazur):
    h, o = mazur["layers"]
    assert h["z"][0][0] == pytest.approx(0.3775, abs=1e-12)                      # net_h1
    assert h["a"][0] == pytest.approx([0.593269992, 0.596884378], abs=5e-10)     # out_h1, out_h2
    assert o["a"][0] == pytest.approx([0.75136507, 0.772928465], abs=5e-9)       # out_o1, out_o2
    assert mazur["loss"] == pytest.approx(0.298371109, abs=5e-10)                # E_total


def test_the_222_network_backward_values_are_the_published_ones(mazur):
    h, o = mazur["layers"]
    assert o["dL_da"][0][0] == pytest.approx(0.74136507, abs=5e-9)              # ∂E/∂out_o1
    assert o["da_dz"][0][0] == pytest.approx(0.186815602, abs=5e-10)             # ∂out_o1/∂net_o1
    assert o["dL_dz"][0][0] == pytest.approx(0.138498562, abs=5e-10)             # δ_o1
    assert o["dL_dW"][0][0] == pytest.approx(0.082167041, abs=5e-10)             # ∂E/∂w5 = δ_o1 · out_h1
    assert o["dL_dW"][0][0] == pytest.approx(o["dL_dz"][0][0] * h["a"][0][0], rel=1e-12)
    assert h["dL_da"][0][0] == pytest.approx(0.036350306, abs=5e-10)             # ∂E_total/∂out_h1
    assert h["dL_dW"][0][0] == pytest.approx(0.000438568, abs=5e-10)             # ∂E/∂w1


def test_the_222_network_updated_weights_are_the_published_ones(mazur):
    h, o = mazur["layers"]
    # W is (n_in, n_out): w5 = W2[0][0] (h1 -> o1), w6 = W2[1][0], w7 = W2[0][1], w8 = W2[1][1]
    w5, w6, w7, w8 = o["W_after"][0][0], o["W_after"][1][0], o["W_after"][0][1], o["W_after"][1][1]
    assert [w5, w6, w7, w8] == pytest.approx([0.35891648, 0.408666186, 0.511301270, 0.561370121], abs=5e-9)
    w1, w2, w3, w4 = h["W_after"][0][0], h["W_after"][1][0], h["W_after"][0][1], h["W_after"][1][1]
    assert [w1, w2, w3, w4] == pytest.approx([0.149780716, 0.19956143, 0.24975114, 0.29950229], abs=5e-9)
    assert o["W"] == [[0.40, 0.50], [0.45, 0.55]]                               # the weights before the step


def test_the_negnevitsky_xor_step_matches_the_textbook():
    r = step("xor_221", x=[[1, 1]], y=[[0]], learning_rate=0.1)
    h, o = r["layers"]
    assert np.round(h["a"][0], 4).tolist() == [0.5250, 0.8808] and round(o["a"][0][0], 4) == 0.5097
    assert round(o["dL_dz"][0][0], 4) == 0.1274                                  # δ5 (the book's −0.1274: e = y − out)
    assert np.round(o["W_after"], 4).tolist() == [[-1.2067], [1.0888]] and round(o["b_after"][0], 4) == -0.3127
    assert np.round(h["W_after"], 4).tolist() == [[0.5038, 0.8985], [0.4038, 0.9985]]
    assert np.round(h["b_after"], 4).tolist() == [-0.7962, 0.0985]               # θ3 = 0.7962, θ4 = −0.0985


def test_the_xor_preset_steps_the_four_rows_as_one_batch():
    r = step("xor_221")
    assert np.shape(r["layers"][0]["z"]) == (4, 2) and np.shape(r["layers"][1]["a"]) == (4, 1)
    assert np.shape(r["dL_dx"]) == (4, 2)


def _engine_reference(p):
    """What the engine itself computes for the same network: Model.loss_and_backward's gradients."""
    model = engine.build_model({**p["model"], "dtype": "float64", "input_shape": [len(p["x"][0])]})
    loss, _ = model.loss_and_backward(np.array(p["x"], float), np.array(p["y"], float))
    return loss, {k: g.copy() for k, g in model.grads.items()}


SOFTMAX = {"model": {"loss": "categorical_crossentropy", "layers": [
    {"type": "dense", "units": 3, "activation": "tanh"}, {"type": "dense", "units": 2, "activation": "softmax"}]},
    "x": [[0.3, -1.0], [2.0, 0.5], [-0.4, 0.2]], "y": [[1, 0], [0, 1], [1, 0]], "learning_rate": 0.5}
NETWORKS = [*NETWORK_PRESETS, SOFTMAX,
            {**SATURATED_NEURON, "model": {**SATURATED_NEURON["model"], "loss": "binary_crossentropy"}}]


@pytest.mark.parametrize("p", NETWORKS, ids=lambda p: p.get("name", "softmax"))
def test_each_layers_gradients_are_the_models_own_and_the_step_is_sgd(p):
    r = backprop_step(p["model"], p["x"], p["y"], p["learning_rate"])
    loss, grads = _engine_reference(p)
    assert r["loss"] == pytest.approx(loss, rel=1e-12)
    for layer in r["layers"]:
        i = layer["index"]
        assert np.allclose(layer["dL_dW"], grads[f"{i}.W"], rtol=1e-10, atol=1e-15)
        # dL/dW = inputᵀ · δ and dL/db = Σₙ δ: the walk's δ is the one the layer used
        assert np.allclose(np.array(layer["input"]).T @ np.array(layer["dL_dz"]), layer["dL_dW"], atol=1e-12)
        assert np.allclose(np.sum(layer["dL_dz"], axis=0), layer["dL_db"], atol=1e-12)
        assert np.allclose(layer["W_after"], np.array(layer["W"]) - p["learning_rate"] * np.array(layer["dL_dW"]))
        if layer["da_dz"] is not None:
            assert np.allclose(np.array(layer["dL_da"]) * layer["da_dz"], layer["dL_dz"], rtol=1e-6, atol=1e-12)
    for below, above in zip(r["layers"], r["layers"][1:]):   # dL/da of a layer is δ above times Wᵀ
        assert np.allclose(below["dL_da"], np.array(above["dL_dz"]) @ np.array(above["W"]).T, atol=1e-12)


def test_dl_dx_matches_central_differences():
    p = PRESETS["xor_221"]
    r = backprop_step(p["model"], p["x"], p["y"], 0.5)
    x, h = np.array(p["x"], float), 1e-6
    model = engine.build_model({**p["model"], "dtype": "float64", "input_shape": [2]})
    t = np.array(p["y"], float)
    numeric = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += h
        minus[idx] -= h
        numeric[idx] = (model.loss.value(model.forward(plus), t) - model.loss.value(model.forward(minus), t)) / (2 * h)
    assert np.allclose(r["dL_dx"], numeric, atol=1e-8)


def test_a_softmax_output_has_no_per_neuron_da_dz():
    r = backprop_step(SOFTMAX["model"], SOFTMAX["x"], SOFTMAX["y"], 0.5)
    assert r["layers"][1]["da_dz"] is None and r["layers"][0]["da_dz"] is not None


def _saturated(loss):
    s = SATURATED_NEURON
    return backprop_step({**s["model"], "loss": loss}, s["x"], s["y"], s["learning_rate"], steps=s["steps"])


def test_cross_entropy_learns_a_saturated_neuron_faster_than_squared_error():
    se, ce = _saturated("half_squared_error"), _saturated("binary_crossentropy")
    a = 0.98201379                                      # sigmoid(2·1 + 2): the neuron starts saturated
    assert se["layers"][0]["a"][0][0] == pytest.approx(a, abs=1e-8)
    # ∂C/∂w = (a − y)·σ'(z)·x for squared error, (a − y)·x for cross-entropy: σ'(4) = 0.0177 slows the first
    assert se["layers"][0]["dL_dW"][0][0] == pytest.approx(a * a * (1 - a), abs=1e-8)     # 0.017345
    assert ce["layers"][0]["dL_dW"][0][0] == pytest.approx(a, abs=1e-8)                 # 0.982014
    assert len(se["curve"]["loss"]) == len(ce["curve"]["loss"]) == 301
    assert se["curve"]["loss"][0] == pytest.approx(0.5 * a * a, abs=1e-8)
    # after 50 steps squared error has barely moved the output; cross-entropy has it below 0.1
    assert se["curve"]["output"][50][0] > 0.97 and ce["curve"]["output"][50][0] < 0.1
    assert se["curve"]["output"][300][0] == pytest.approx(0.2028, abs=1e-4)
    assert ce["curve"]["output"][300][0] == pytest.approx(0.0120, abs=1e-4)
    assert se["curve"]["loss"][1] == pytest.approx(_engine_loss_after_one_step("half_squared_error"), rel=1e-12)


def _engine_loss_after_one_step(loss):
    s = SATURATED_NEURON
    model = engine.build_model({**s["model"], "loss": loss, "dtype": "float64", "input_shape": [1]})
    x, y = np.array(s["x"]), np.array(s["y"])
    model.loss_and_backward(x, y)
    opt = engine.optimizers.make_optimizer({"name": "sgd", "learning_rate": s["learning_rate"]})
    opt.step(model.params, model.grads)
    return model.loss_and_backward(x, y)[0]


@pytest.mark.parametrize("change, path", [
    ({"x": []}, "x"), ({"x": [[0.05, "a"]]}, "x.0"), ({"x": [[1, 2], [3]]}, "x"), ({"y": [[0.01, 0.99]] * 2}, "y"),
    ({"x": [[0.05, 0.1, 0.2]]}, "x"), ({"learning_rate": 0}, "learning_rate"), ({"learning_rate": "0.5"}, "learning_rate"),
    ({"y": [[0.01, 0.99, 1]]}, "y"), ({"x": [[10 ** 400, 0.1]]}, "x"), ({"x": [[[0.05, 0.1]]]}, "x.0"),
])
def test_bad_inputs_are_refused_at_their_field(change, path):
    p = {**copy.deepcopy(PRESETS["mazur_222"]), **change}
    model = {**p["model"], "input_shape": [2]} if "x" in change else p["model"]
    with pytest.raises(SpecError) as e:
        backprop_step(model, p["x"], p["y"], p["learning_rate"])
    assert e.value.problems[0].path == path, e.value


def test_lesson_networks_are_small_dense_stacks_within_the_limits():
    p = copy.deepcopy(PRESETS["mazur_222"])
    conv = {**p["model"], "layers": [{"type": "flatten"}, *p["model"]["layers"]]}
    with pytest.raises(SpecError) as e:
        backprop_step(conv, p["x"], p["y"], 0.5)
    assert e.value.problems[0].path == "model.layers.0.type"
    wide = {**p["model"], "layers": [{"type": "dense", "units": 17}, p["model"]["layers"][1]]}
    with pytest.raises(SpecError, match="max_lesson_units = 16"):
        backprop_step(wide, p["x"], p["y"], 0.5)
    with pytest.raises(SpecError, match="max_lesson_rows = 1"):
        backprop_step(p["model"], p["x"] * 2, p["y"] * 2, 0.5, limits=Limits(max_lesson_rows=1))
    with pytest.raises(SpecError) as e:
        backprop_step(p["model"], p["x"], p["y"], 0.5, steps=10 ** 6)
    assert e.value.problems[0].path == "steps"
    bad_w = copy.deepcopy(p["model"])
    bad_w["layers"][0]["weights"]["W"] = [[1, 2, 3]]
    with pytest.raises(SpecError) as e:
        backprop_step(bad_w, p["x"], p["y"], 0.5)
    assert e.value.problems[0].path == "model.layers.0.weights.W"
