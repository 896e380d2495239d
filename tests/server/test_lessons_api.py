"""The lessons' REST endpoints (TestClient). Part 1: /api/lessons/expression, /api/lessons/backprop and presets."""
from __future__ import annotations

import numpy as np
import pytest

from engine.lessons.backprop import NETWORK_PRESETS, SATURATED_NEURON

# ==== 1. backprop (helper F) ====
MAZUR = NETWORK_PRESETS[0]


def test_expression_returns_value_grads_and_nodes_in_evaluation_order(client):
    r = client.post("/api/lessons/expression", json={"expression": "(x + y) * z", "values": {"x": -2, "y": 5, "z": -4}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["value"] == -12 and body["grads"] == {"x": -4, "y": -4, "z": 3}
    assert [(n["id"], n["op"], n["inputs"]) for n in body["nodes"]] == [
        (0, "input", []), (1, "input", []), (2, "input", []), (3, "add", [0, 1]), (4, "mul", [3, 2])]
    assert body["nodes"][4]["local"] == [-4, 3] and body["nodes"][3]["passed"] == [-4, -4]


def test_expression_values_may_be_matrices(client):
    r = client.post("/api/lessons/expression", json={"expression": "sum((W @ x) ** 2)",
                                                     "values": {"W": [[0.1, 0.5], [-0.3, 0.8]], "x": [0.2, 0.4]}})
    assert r.status_code == 200
    assert np.allclose(r.json()["grads"]["W"], [[0.088, 0.176], [0.104, 0.208]])
    assert r.json()["grads"]["x"] == pytest.approx([-0.112, 0.636])


@pytest.mark.parametrize("expression, reason", [
    ("__import__('os')", "calling '__import__' is not allowed"),
    ("x.__class__", "no attributes"),
    ("9**9**9", "the exponent of ** must be a number"),
    ("[x for x in y]", "no comprehensions"),
    ("x[0]", "no subscripts"),
])
def test_hostile_expressions_are_422_with_the_reason(client, expression, reason):
    r = client.post("/api/lessons/expression", json={"expression": expression, "values": {"x": 1, "y": 2}})
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["field"] == "expression" and reason in detail["msg"]
    assert r.json()["message"].startswith("expression: ")


def test_expression_limits_come_from_the_servers_engine_limits(make_client):
    client = make_client(engine_overrides={"max_expression_chars": 5})
    r = client.post("/api/lessons/expression", json={"expression": "x + x + x", "values": {"x": 1}})
    assert r.status_code == 422 and "max_expression_chars = 5" in r.json()["message"]
    r = client.post("/api/lessons/expression", json={"expression": "x", "values": {"x": [[[1]]]}})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "values.x"


def test_catalog_lists_the_lesson_limits(client):
    limits = client.get("/api/catalog").json()["limits"]
    for name in ("max_expression_chars", "max_expression_nodes", "max_expression_values", "max_expression_exponent",
                 "max_lesson_units", "max_lesson_rows", "max_lesson_steps"):
        assert name in limits


def test_backprop_step_returns_the_222_examples_numbers(client):
    r = client.post("/api/lessons/backprop", json={k: MAZUR[k] for k in ("model", "x", "y", "learning_rate")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["loss"] == pytest.approx(0.298371109, abs=5e-10)
    h, o = body["layers"]
    assert set(o) >= {"index", "type", "input", "z", "a", "dL_da", "dL_dz", "dL_dW", "dL_db", "W", "b", "W_after",
                      "b_after"}
    assert o["W_after"][0][0] == pytest.approx(0.35891648, abs=5e-9)          # w5
    assert h["W_after"][0][0] == pytest.approx(0.149780716, abs=5e-9)         # w1
    assert o["dL_dz"][0][0] == pytest.approx(0.138498562, abs=5e-10)          # δ_o1
    assert len(body["dL_dx"]) == 1 and len(body["dL_dx"][0]) == 2
    assert body["curve"] is None


def test_backprop_curve_for_the_saturated_neuron(client):
    s = SATURATED_NEURON
    curves = {}
    for loss in s["losses"]:
        r = client.post("/api/lessons/backprop", json={"model": {**s["model"], "loss": loss}, "x": s["x"], "y": s["y"],
                                                       "learning_rate": s["learning_rate"], "steps": s["steps"]})
        assert r.status_code == 200, r.text
        curves[loss] = r.json()
    assert len(curves["binary_crossentropy"]["curve"]["loss"]) == 301
    assert curves["binary_crossentropy"]["layers"][0]["dL_dW"][0][0] == pytest.approx(0.98201379, abs=1e-8)
    assert curves["half_squared_error"]["layers"][0]["dL_dW"][0][0] == pytest.approx(0.01734502, abs=1e-8)


@pytest.mark.parametrize("change, field", [
    ({"learning_rate": "0.5"}, "learning_rate"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"x": [[0.05, 0.1, 7]]}, "x"),
    ({"y": [[1, 2], [3, 4]]}, "y"),
    ({"steps": 10 ** 7}, "steps"),
    ({"model": {"loss": "half_squared_error", "layers": [{"type": "flatten"}]}}, "model.layers.0.type"),
    ({"model": {"loss": "half_squared_error", "layers": [{"type": "dense", "units": 2, "weights": {"W": [[1]]}}]}},
     "model.layers.0.weights.W"),
])
def test_backprop_refusals_name_the_field(client, change, field):
    body = {**{k: MAZUR[k] for k in ("model", "x", "y", "learning_rate")}, **change}
    r = client.post("/api/lessons/backprop", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["field"] == field, r.json()


def test_backprop_presets_are_the_engines(client):
    body = client.get("/api/lessons/backprop/presets").json()
    assert [p["name"] for p in body["networks"]] == [p["name"] for p in NETWORK_PRESETS]
    assert [p["name"] for p in body["expressions"]] == ["circuit", "linear", "sigmoid_neuron", "vectorised"]
    assert body["saturated_neuron"]["steps"] == 300
    assert body["functions"] == ["exp", "log", "sqrt", "abs", "sigmoid", "tanh", "relu", "max", "sum", "mean"]


def test_the_backprop_lesson_page_is_served_with_its_module(client):
    r = client.get("/lessons/backprop")
    assert r.status_code == 200 and "/static/js/lesson-backprop.js" in r.text
    assert client.get("/static/js/lesson-backprop.js").status_code == 200
# ==== end 1. backprop ====
