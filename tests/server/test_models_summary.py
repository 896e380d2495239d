"""POST /api/models/summary: the builder's shapes, counts, warnings and errors come from the engine."""
from __future__ import annotations

import pytest


def dense(units, activation="linear", **extra):
    return {"type": "dense", "units": units, "activation": activation, **extra}


def summary(client, model, dataset=None):
    body = {"model": model} if dataset is None else {"model": model, "dataset": dataset}
    res = client.post("/api/models/summary", json=body)
    assert res.status_code == 200, res.text
    return res.json()


def test_conv_net_rows_give_each_layers_output_shape_and_parameter_count(client):
    model = {"layers": [{"type": "conv2d", "filters": 8, "kernel_size": 3, "activation": "relu"},
                        {"type": "maxpool2d", "pool_size": 2},
                        {"type": "flatten"},
                        dense(10, "softmax")],
             "loss": "categorical_crossentropy"}
    body = summary(client, model, {"name": "mnist"})
    assert [r["output_shape"] for r in body["layers"]] == [[8, 26, 26], [8, 13, 13], [1352], [10]]
    assert [r["params"] for r in body["layers"]] == [8 * 1 * 3 * 3 + 8, 0, 0, 1352 * 10 + 10]
    assert body["n_params"] == 80 + 13530
    assert body["layers"][0]["text"] == "conv2d 8@3x3 relu"
    assert body["errors"] == [] and body["task"] == "classification" and body["n_classes"] == 10


def test_dense_parameter_counts_follow_the_features(client):
    model = {"layers": [dense(16, "tanh"), dense(16, "tanh"), dense(2, "softmax")], "loss": "categorical_crossentropy"}
    body = summary(client, model, {"name": "spiral", "features": ["x1", "x2", "x1^2"]})
    assert body["input_shape"] == [3]
    assert [r["params"] for r in body["layers"]] == [3 * 16 + 16, 16 * 16 + 16, 16 * 2 + 2]
    assert body["n_params"] == 64 + 272 + 34


def test_dense_after_conv_without_flatten_is_an_error_on_that_layer(client):
    model = {"layers": [{"type": "conv2d", "filters": 4, "kernel_size": 3}, dense(10, "softmax")],
             "loss": "categorical_crossentropy"}
    body = summary(client, model, {"name": "mnist"})
    assert any(e["path"] == "model.layers.1" and "flatten" in e["message"] for e in body["errors"]), body["errors"]
    assert body["layers"][1]["output_shape"] is None


def test_a_stack_of_sigmoid_layers_warns_about_vanishing_gradients(client):
    model = {"layers": [dense(4, "sigmoid") for _ in range(5)] + [dense(2, "softmax")],
             "loss": "categorical_crossentropy"}
    body = summary(client, model, {"name": "circle"})
    assert body["errors"] == []
    assert any("vanishing" in w["message"] for w in body["warnings"]), body["warnings"]


def test_three_output_units_on_a_two_class_set_is_an_error_with_its_path(client):
    model = {"layers": [dense(8, "tanh"), dense(3, "softmax")], "loss": "categorical_crossentropy"}
    body = summary(client, model, {"name": "circle"})
    assert [e["path"] for e in body["errors"]] == ["model.layers.1.units"]
    assert body["output"]["fits"] is False


@pytest.mark.parametrize("dataset, layer, loss", [
    ({"name": "circle"}, dense(2, "softmax"), "categorical_crossentropy"),
    ({"name": "plane"}, dense(1, "linear"), "mean_squared_error"),
    ({"name": "spiral", "n_classes": 3}, dense(3, "softmax"), "categorical_crossentropy"),
])
def test_the_suggested_output_follows_the_datasets_task(client, dataset, layer, loss):
    wrong = {"layers": [dense(8, "tanh"), dense(1, "sigmoid")], "loss": "binary_crossentropy"}
    body = summary(client, wrong, dataset)
    assert body["output"]["layer"] == {"type": "dense", **{k: layer[k] for k in ("units", "activation")}}
    assert body["output"]["loss"] == loss


def test_a_single_perceptron_unit_is_a_fitting_output_for_two_classes(client):
    model = {"layers": [dense(1, "linear")], "loss": "perceptron"}
    body = summary(client, model, {"name": "gauss"})
    assert body["errors"] == [] and body["output"]["fits"] is True
    assert {"activation": "linear", "loss": "perceptron", "units": 1} in body["output"]["choices"]


def test_straight_line_warning_considers_the_features(client):
    model = {"layers": [dense(1, "sigmoid")], "loss": "binary_crossentropy"}
    raw = summary(client, model, {"name": "circle", "features": ["x1", "x2"]})
    squared = summary(client, model, {"name": "circle", "features": ["x1", "x2", "x1^2", "x2^2"]})
    assert any("straight" in w["message"] for w in raw["warnings"]), raw["warnings"]
    assert not any("straight" in w["message"] for w in squared["warnings"]), squared["warnings"]


def test_explicit_weights_of_a_resized_layer_are_reported_stale(client):
    model = {"layers": [dense(3, "tanh", weights={"W": [[1, 2], [3, 4]], "b": [0, 0]}), dense(2, "softmax")],
             "loss": "categorical_crossentropy"}
    body = summary(client, model, {"name": "circle"})
    assert body["layers"][0]["weights"] == "stale"
    assert any(e["path"] == "model.layers.0.weights.W" for e in body["errors"])


def test_an_invalid_model_answers_200_with_its_problems_listed(client):
    body = summary(client, {"layers": [{"type": "dense", "units": 0}], "loss": "nope"}, {"name": "circle"})
    paths = {e["path"] for e in body["errors"]}
    assert {"model.layers.0.units", "model.loss"} <= paths, body["errors"]


def test_malformed_json_is_the_only_422(client):
    res = client.post("/api/models/summary", content=b'{"model": ', headers={"content-type": "application/json"})
    assert res.status_code == 422
    res = client.post("/api/models/summary", json={"model": {"layers": []}, "dataset": {"name": "mnist", "path": "/"}})
    assert res.status_code == 422   # server-side files stay off the API, as for jobs


def test_a_knn_model_is_summarized_not_a_server_error(client):
    body = summary(client, {"type": "knn", "k": 5, "metric": "l2"}, {"name": "circle"})
    assert [(r["type"], r["params"]) for r in body["layers"]] == [("knn", 0)]
    assert body["output"] is None and body["errors"] == []
