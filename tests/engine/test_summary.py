"""engine.summary: the output heads it offers are ones the engine trains without errors or warnings."""
from __future__ import annotations

import pytest

import engine
from engine.summary import output_choices, summarize

DATASETS = [{"name": "circle", "n_samples": 60}, {"name": "spiral", "n_classes": 3, "n_samples": 60},
            {"name": "plane", "n_samples": 60}]


def head_cases():
    for ds in DATASETS:
        task = engine.catalog()["datasets"][ds["name"]]["task"]
        for head in output_choices(task, ds.get("n_classes", 2) if task == "classification" else None):
            yield pytest.param(ds, head, id=f"{ds['name']}-{head['activation']}-{head['loss']}-{head['units']}")


@pytest.mark.parametrize("dataset, head", list(head_cases()))
def test_every_offered_output_head_is_accepted_without_warnings_and_trains(dataset, head):
    model = {"layers": [{"type": "dense", "units": 4, "activation": "tanh"},
                        {"type": "dense", "units": head["units"], "activation": head["activation"]}],
             "loss": head["loss"]}
    body = summarize(model, dataset)
    assert body["errors"] == [] and body["warnings"] == [], (body["errors"], body["warnings"])
    assert body["output"]["fits"] is True
    result = engine.train({"dataset": dataset, "model": model, "training": {"epochs": 1, "batch_size": 20}})
    assert result.outcome == "completed", result.message


def test_the_suggestion_is_the_first_offered_head():
    body = summarize({"layers": [{"type": "dense", "units": 5}], "loss": "hinge"}, {"name": "xor"})
    first = body["output"]["choices"][0]
    assert body["output"]["layer"] == {"type": "dense", "units": first["units"], "activation": first["activation"]}
    assert body["output"]["loss"] == first["loss"]


def test_summary_never_raises_for_garbage():
    for model in (None, [], {"layers": "x"}, {"layers": [{"type": "nope"}], "loss": 3}):
        body = summarize(model, {"name": "circle"})
        assert body["errors"], model


@pytest.mark.parametrize("W, fit", [([[0.1, 0.2], [0.3, 0.4]], "ok"), ([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], "stale"),
                                     ([[0.1, 0.2], [0.3]], "stale")])
def test_explicit_weights_are_checked_against_the_layer_shape(W, fit):
    model = {"layers": [{"type": "dense", "units": 2, "activation": "tanh", "weights": {"W": W, "b": [0, 0]}},
                        {"type": "dense", "units": 2, "activation": "softmax"}], "loss": "categorical_crossentropy"}
    body = summarize(model, {"name": "circle"})
    assert body["layers"][0]["weights"] == fit
    assert any(e["path"] == "model.layers.0.weights.W" for e in body["errors"]) == (fit == "stale")


def test_a_knn_model_is_summarized_as_one_row_without_parameters():
    out = summarize({"type": "knn", "k": 7, "metric": "l1"}, {"name": "circle"})
    assert out["errors"] == []
    assert [(r["type"], r["text"], r["output_shape"], r["params"]) for r in out["layers"]] == \
        [("knn", "knn k=7 l1", [2], 0)]
    assert out["n_params"] == 0 and out["output"] is None and out["input_shape"] == [2]


def test_a_knn_row_gives_the_k_range_the_training_rows_allow():
    # the playground's k slider spans this range: 40 points, test ratio 0.5 -> 20 training rows
    small = summarize({"type": "knn", "k": 3}, {"name": "circle", "n_samples": 40})
    assert small["layers"][0]["k_range"] == [1, 20]
    over = summarize({"type": "knn", "k": 21}, {"name": "circle", "n_samples": 40})
    assert [e["path"] for e in over["errors"]] == ["model.k"]
    assert summarize({"type": "knn", "input_shape": [2]})["layers"][0]["k_range"] == [1, 1000]   # no data: the option's range


def test_a_knn_model_on_a_regression_task_lists_the_engines_refusal():
    out = summarize({"type": "knn", "k": 3}, {"name": "plane"})
    assert any(e["path"] == "model.type" for e in out["errors"])


def test_every_hidden_layer_type_is_summarized_with_its_text_not_an_error():
    # the summary describes layers without building them: maxout (no activation of its own) used to raise
    # AttributeError there, which the playground's builder got as a 500
    model = {"layers": [{"type": "maxout", "units": 3, "pieces": 2},
                        {"type": "dense", "units": 4, "activation": {"name": "leaky_relu", "alpha": 0.1}},
                        {"type": "dense", "units": 2, "activation": "softmax"}],
             "loss": "categorical_crossentropy"}
    out = summarize(model, {"name": "xor"})
    assert [r["text"] for r in out["layers"]] == ["maxout 3x2", "dense 4 leaky_relu", "dense 2 softmax"]
    assert out["errors"] == []
