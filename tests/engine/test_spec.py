"""validate()/normalize(): every problem named by field path, with the allowed values; limits; catalog."""
import json
import math

import pytest

import engine
from engine.spec import Limits

GOOD = {"dataset": {"name": "spiral", "n_samples": 500, "noise": 0.1, "test_ratio": 0.5, "seed": 1},
        "model": {"input_shape": [2], "dtype": "float32",
                  "layers": [{"type": "dense", "units": 8, "activation": "tanh", "kernel_initializer": "glorot_uniform"},
                             {"type": "dense", "units": 2, "activation": "softmax"}],
                  "loss": "categorical_crossentropy"},
        "training": {"optimizer": {"name": "adam", "learning_rate": 0.01}, "batch_size": 32, "epochs": 200,
                     "regularization": {"l1": 0, "l2": 0.0001}, "lr_schedule": {"name": "constant"},
                     "early_stopping": None, "validation_split": 0.0, "seed": 0},
        "stream": {}}


def with_change(path, value):
    spec = json.loads(json.dumps(GOOD))
    *parents, last = path.split(".")
    node = spec
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    node[int(last) if last.isdigit() else last] = value
    return spec


def test_the_issue_example_spec_is_valid():
    assert engine.validate(GOOD) == []


def test_normalize_fills_defaults_and_takes_input_shape_from_dataset():
    spec = with_change("model.input_shape", None)
    del spec["model"]["input_shape"]
    norm = engine.normalize(spec)
    assert norm["model"]["input_shape"] == [2]
    assert norm["training"]["optimizer"] == {"name": "adam", "learning_rate": 0.01, "beta_1": 0.9,
                                             "beta_2": 0.999, "epsilon": 1e-7}
    assert norm["stream"]["resolution"] == 64


@pytest.mark.parametrize("path,value,field,words", [
    ("model.layers.0.activation", "swish", "model.layers.0.activation", "relu"),
    ("model.layers.0.type", "lstm", "model.layers.0.type", "conv2d"),
    ("model.layers.0.units", 0, "model.layers.0.units", "between|>= 1"),
    ("model.layers.0.units", 2.5, "model.layers.0.units", "whole number"),
    ("model.layers.0.units", "8", "model.layers.0.units", "number"),
    ("model.loss", "mse", "model.loss", "mean_squared_error"),
    ("model.dtype", "float16", "model.dtype", "float32"),
    ("training.optimizer.name", "lbfgs", "training.optimizer.name", "adam"),
    ("training.optimizer.learning_rate", -1, "training.optimizer.learning_rate", "> 0"),
    ("training.optimizer.learning_rate", math.nan, "training.optimizer.learning_rate", "finite"),
    ("training.optimizer.learning_rate", math.inf, "training.optimizer.learning_rate", "finite"),
    ("training.epochs", 10**9, "training.epochs", "<="),
    ("training.batch_size", 0, "training.batch_size", ">= 1"),
    ("training.lr_schedule", {"name": "step", "every": 0}, "training.lr_schedule.every", ">= 1"),
    ("dataset.name", "cifar", "dataset.name", "mnist"),
    ("dataset.noise", 5, "dataset.noise", "<= 1"),
    ("dataset.n_samples", -3, "dataset.n_samples", ">="),
    ("dataset.features", ["x3"], "dataset.features.0", r"sin\(x1\)"),
    ("model.layers.0.kernel_initializer", "xavier", "model.layers.0.kernel_initializer", "glorot_uniform"),
    ("training.early_stopping", {"monitor": "val_loss"}, "training.early_stopping.monitor", "validation_split"),
])
def test_bad_values_are_reported_with_field_and_allowed_values(path, value, field, words):
    problems = engine.validate(with_change(path, value))
    assert problems, "expected a problem"
    assert any(p.path == field for p in problems), problems
    import re
    assert any(re.search(words, p.message) for p in problems if p.path == field), problems


def test_all_problems_are_reported_at_once():
    spec = with_change("model.loss", "nope")
    spec["training"]["epochs"] = -1
    spec["model"]["layers"][1]["units"] = 0
    assert {p.path for p in engine.validate(spec)} >= {"model.loss", "training.epochs", "model.layers.1.units"}


def test_unknown_keys_are_rejected():
    assert engine.validate({**GOOD, "extra": 1})[0].path == "extra"
    assert engine.validate(with_change("model.layers.0.unitz", 3))[0].path == "model.layers.0.unitz"


def test_parameter_limit_is_checked_before_allocating():
    spec = with_change("model.layers.0.units", 4096)
    spec["model"]["layers"].insert(1, {"type": "dense", "units": 4096})
    problems = engine.validate(spec, Limits(max_params=1_000_000))
    assert any("parameters" in p.message and "limit" in p.message for p in problems)


def test_shapes_that_do_not_fit_are_reported():
    spec = with_change("model.input_shape", [1, 28, 28])
    problems = engine.validate(spec)
    assert problems


def test_catalog_lists_every_registry_with_params():
    cat = engine.catalog()
    assert set(cat["activations"]) == set(engine.ACTIVATIONS.names())
    assert set(cat["optimizers"]) == {"sgd", "adagrad", "rmsprop", "adam", "adadelta"}
    assert cat["activations"]["step"]["zero_gradient"] is True
    units = next(p for p in cat["layers"]["dense"]["params"] if p["name"] == "units")
    assert units["type"] == "int" and units["min"] == 1
    assert cat["limits"]["max_params"] == engine.DEFAULT_LIMITS.max_params
    json.dumps(cat)  # JSON-ready


def test_output_layer_must_fit_the_number_of_classes():
    spec = with_change("model.layers.1.units", 3)
    problems = engine.validate(spec)
    assert [p.path for p in problems] == ["model.layers.1.units"]
    assert "2 classes" in problems[0].message


def test_regression_needs_one_output_and_mse():
    spec = with_change("dataset", {"name": "plane"})
    assert any("regression" in p.message for p in engine.validate(spec))


def test_inline_class_count_is_checked_when_the_data_is_loaded():
    spec = with_change("dataset", {"name": "inline", "x": [[0, 0], [1, 1], [2, 2]], "y": [0, 1, 2]})
    assert engine.validate(spec) == []  # only the data knows it has 3 classes
    with pytest.raises(engine.SpecError, match="3 classes"):
        engine.train(spec)


def test_advice_warns_about_step_activation_but_not_about_a_logits_output():
    spec = with_change("model.layers.0.activation", "step")
    spec["model"]["layers"][1]["activation"] = "linear"   # read as logits by the cross-entropy: fine
    notes = engine.advise(engine.normalize(spec))
    assert any(n.path == "model.layers.0.activation" and "zero gradient" in n.message for n in notes)
    assert not any(n.path == "model.loss" for n in notes)
    assert engine.advise(engine.normalize(GOOD)) == []


def test_augmentation_is_for_images_only():
    spec = with_change("training.augmentation", {"shift": 2})
    assert [p.path for p in engine.validate(spec)] == ["training.augmentation"]
