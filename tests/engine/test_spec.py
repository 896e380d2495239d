"""validate()/normalize(): every problem named by field path, with the allowed values; limits; catalog."""
import json
import math
import re

import numpy as np
import pytest

import engine
from engine.spec import Limits

from .spec_cases import BAD_SPECS

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
                                             "beta_2": 0.999, "epsilon": 1e-7, "clipnorm": None, "clipvalue": None}
    assert norm["stream"]["resolution"] == 64


@pytest.mark.parametrize("path,value,field,words", [
    ("model.layers.0.activation", "swish", "model.layers.0.activation", "relu"),
    ("model.layers.0.type", "transformer", "model.layers.0.type", "conv2d"),
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
    assert any(p.path == field for p in problems), problems
    assert any(re.search(words, p.message) for p in problems if p.path == field), problems


def test_all_problems_are_reported_at_once():
    spec = with_change("model.loss", "nope")
    spec["training"]["epochs"] = -1
    spec["model"]["layers"][1]["units"] = 0
    assert {p.path for p in engine.validate(spec)} >= {"model.loss", "training.epochs", "model.layers.1.units"}


def test_unknown_keys_are_rejected():
    problems = engine.validate({**GOOD, "extra": 1})
    assert [p.path for p in problems] == ["extra"] and "allowed: dataset, model, training, stream" in problems[0].message
    problems = engine.validate(with_change("model.layers.0.unitz", 3))
    assert [p.path for p in problems] == ["model.layers.0.unitz"] and "units" in problems[0].message


def test_parameter_limit_is_checked_before_allocating():
    spec = with_change("model.layers.0.units", 4096)
    spec["model"]["layers"].insert(1, {"type": "dense", "units": 4096})
    problems = engine.validate(spec, Limits(max_params=1_000_000))
    assert [(p.path, p.message) for p in problems] == [
        ("model", "has 16,801,794 parameters; the limit is 1,000,000")]  # 2*4096+4096 + 4096*4096+4096 + 4096*2+2


def test_an_input_shape_the_data_does_not_have_is_reported():
    problems = engine.validate(with_change("model.input_shape", [1, 28, 28]))
    assert [p.path for p in problems] == ["model.input_shape"]
    assert "is [1, 28, 28] but the dataset's inputs have shape [2]" in problems[0].message


@pytest.mark.parametrize("case", BAD_SPECS, ids=[c[0] for c in BAD_SPECS])
def test_every_data_and_build_problem_is_found_by_validate(case):
    _, spec, path, words = case
    problems = engine.validate(spec)
    assert problems and problems[0].path == path, problems
    assert re.search(words, problems[0].message), problems[0]


def test_bad_specs_table_covers_data_shapes_and_builds():
    assert len(BAD_SPECS) >= 25
    assert {c[2].split(".")[0] for c in BAD_SPECS} >= {"dataset", "model", "training"}


def test_image_sets_are_checked_from_their_declared_shapes_without_reading_files(monkeypatch):
    import engine.datasets.mnist as mnist

    def no_files(*args, **kwargs):
        raise AssertionError("validation must not look for image files")
    monkeypatch.setattr(mnist, "locate", no_files)
    spec = {"dataset": {"name": "mnist", "flatten": True},
            "model": {"layers": [{"type": "dense", "units": 10, "activation": "softmax"}],
                      "loss": "categorical_crossentropy"}}
    assert engine.normalize(spec)["model"]["input_shape"] == [784]
    spec["model"]["layers"][0]["units"] = 3
    assert [p.path for p in engine.validate(spec)] == ["model.layers.0.units"]


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


def test_regression_needs_one_output_per_target_and_a_regression_loss():
    spec = with_change("dataset", {"name": "plane"})
    problems = engine.validate(spec)
    assert [p.path for p in problems] == ["model.layers.1.units"]
    assert "1 target value(s) per example; the output layer needs 1 unit(s), not 2" in problems[0].message
    spec["model"]["layers"][1].update(units=1, activation="sigmoid")
    spec["model"]["loss"] = "binary_crossentropy"
    problems = engine.validate(spec)
    assert [p.path for p in problems] == ["model.loss"] and "is for classification" in problems[0].message


def test_inline_class_count_is_checked_at_validation_from_the_data():
    spec = with_change("dataset", {"name": "inline", "x": [[0, 0], [1, 1], [2, 2]], "y": [0, 1, 2]})
    problems = engine.validate(spec)
    assert [p.path for p in problems] == ["model.layers.1.units"] and "3 classes" in problems[0].message


def test_normalize_records_the_task_and_classes_inline_data_implies_and_is_idempotent():
    spec = with_change("dataset", {"name": "inline", "x": [[0, 0], [1, 1], [2, 2]], "y": [0, 1, 1]})
    norm = engine.normalize(spec)
    assert norm["dataset"]["task"] == "classification" and norm["dataset"]["n_classes"] == 2
    assert norm["dataset"]["features"] == ["x1", "x2"] and norm["model"]["input_shape"] == [2]
    assert engine.normalize(norm) == norm


def inline_job(x, y, units, activation="linear", loss="mean_squared_error"):
    return {"dataset": {"name": "inline", "x": x, "y": y},
            "model": {"layers": [{"type": "dense", "units": 3, "activation": "tanh"},
                                 {"type": "dense", "units": units, "activation": activation}], "loss": loss},
            "training": {"epochs": 1, "batch_size": 4, "optimizer": {"name": "sgd", "learning_rate": 0.1}},
            "stream": {"resolution": 8, "neuron_resolution": 4, "bins": 4}}


@pytest.mark.parametrize("width", [1, 3, 4])
def test_inline_data_of_any_width_trains_with_its_columns_as_inputs(width):
    rng = np.random.default_rng(width)
    x = rng.normal(size=(12, width)).round(3).tolist()
    spec = inline_job(x, [i % 2 for i in range(12)], 2, "softmax", "categorical_crossentropy")
    norm = engine.normalize(spec)
    assert norm["model"]["input_shape"] == [width] and norm["dataset"]["features"] is None
    result = engine.train(spec)
    assert result.outcome == "completed" and result.model.input_shape == (width,)
    assert result.model.predict(np.asarray(x)).shape == (12, 2)


def test_one_column_regression_by_gradient_descent_trains():
    x = [i / 10 for i in range(10)]
    result = engine.train(inline_job(x, [2 * v + 0.5 for v in x], 1))
    assert result.outcome == "completed" and result.dataset["input_shape"] == [1]


def test_vector_targets_train_a_multi_output_network():
    # the lectures' 2-2-2 example: inputs 0.05 / 0.10, targets 0.01 / 0.99
    spec = {"dataset": {"name": "inline", "x": [[0.05, 0.10]], "y": [[0.01, 0.99]]},
            "model": {"layers": [{"type": "dense", "units": 2, "activation": "sigmoid"},
                                 {"type": "dense", "units": 2, "activation": "sigmoid"}],
                      "loss": "mean_squared_error"},
            "training": {"epochs": 1, "batch_size": 1, "optimizer": {"name": "sgd", "learning_rate": 0.5}}}
    assert engine.validate(spec) == []
    result = engine.train(spec)
    assert result.outcome == "completed" and result.dataset["n_targets"] == 2
    assert result.model.predict(np.array([[0.05, 0.10]])).shape == (1, 2)
    assert math.isfinite(result.history[0]["train_loss"])


@pytest.mark.parametrize("value", ["10", True, None, [10], {"n": 10}])
def test_params_refuse_strings_booleans_and_containers_for_numbers(value):
    from engine.params import Param
    with pytest.raises(engine.SpecError) as e:
        Param("epochs", "int", 100, 1, 1000).check(value, "training.epochs")
    assert e.value.problems[0].path == "training.epochs"
    assert re.search("must be a number|is required", e.value.problems[0].message)


@pytest.mark.parametrize("value", ["true", 1, 0, None])
def test_bool_params_refuse_anything_but_true_or_false(value):
    from engine.params import Param
    with pytest.raises(engine.SpecError, match="must be true or false|is required"):
        Param("histograms", "bool", True).check(value, "stream.histograms")


@pytest.mark.parametrize("path,value", [("training.epochs", "10"), ("training.epochs", True),
                                        ("training.batch_size", "32"), ("stream.histograms", "yes"),
                                        ("training.optimizer.learning_rate", "0.1"), ("dataset.noise", False)])
def test_validate_never_coerces_strings_or_booleans(path, value):
    problems = engine.validate(with_change(path, value))
    assert [p.path for p in problems] == [path], problems


def test_advice_warns_about_step_activation_but_not_about_a_logits_output():
    spec = with_change("model.layers.0.activation", "step")
    spec["model"]["layers"][1]["activation"] = "linear"   # read as logits by the cross-entropy: fine
    notes = engine.advise(engine.normalize(spec))
    assert any(n.path == "model.layers.0.activation" and "zero gradient" in n.message for n in notes)
    assert not any(n.path == "model.loss" for n in notes)
    assert engine.advise(engine.normalize(GOOD)) == []


def test_augmentation_is_for_images_only():
    spec = with_change("training.augmentation", {"shift": 2})
    problems = engine.validate(spec)
    assert [p.path for p in problems] == ["training.augmentation"] and "image datasets" in problems[0].message


def test_a_loader_failure_that_is_not_a_spec_error_is_reported_at_the_dataset_without_numpy_text(monkeypatch):
    import engine.datasets as datasets

    def broken(spec):
        raise ValueError("operands could not be broadcast together with shapes (3,) (4,)")
    monkeypatch.setattr(datasets, "load_dataset", broken)
    problems = engine.validate(GOOD)
    assert [p.path for p in problems] == ["dataset"]
    assert "could not be built" in problems[0].message and "broadcast" not in problems[0].message


def test_a_shape_walk_failure_that_is_not_a_spec_error_is_reported_at_the_layers(monkeypatch):
    import engine.model as model

    def broken(spec):
        raise IndexError("tuple index out of range")
    monkeypatch.setattr(model, "count_params", broken)
    problems = engine.validate(GOOD)
    assert [p.path for p in problems] == ["model.layers"] and "cannot be built" in problems[0].message


def test_normalize_copies_the_spec_but_shares_inline_data_lists_instead_of_deep_copying_them():
    x, y = [[0.0, 1.0], [1.0, 0.0]] * 500, [0, 1] * 500
    spec = with_change("dataset", {"name": "inline", "x": x, "y": y})
    before = json.loads(json.dumps(spec))
    norm = engine.normalize(spec)
    assert norm["dataset"]["x"] is x and norm["dataset"]["y"] is y   # a million numbers are not copied per request
    norm["model"]["layers"][0]["units"] = 99
    norm["dataset"]["seed"] = 5
    assert spec == before                                             # the rest is a copy


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("split", [0.1, 0.5])
def test_validation_split_is_refused_exactly_when_training_would_have_no_rows(n, split):
    # the check and the trainer's split must agree: train the same spec past validation to see
    spec = inline_job([[float(i), 0.0] for i in range(n)], [i + 0.5 for i in range(n)], 1)
    spec["training"]["validation_split"] = split
    problems = engine.validate(spec)
    unchecked = engine.normalize({**spec, "training": {**spec["training"], "validation_split": 0.0}})
    unchecked["training"]["validation_split"] = split
    if problems:
        assert [p.path for p in problems] == ["training.validation_split"]
        with pytest.raises(Exception):
            engine.train(unchecked, normalized=True)
    else:
        assert engine.train(unchecked, normalized=True).outcome == "completed"


def test_a_network_without_a_sized_layer_on_sequence_inputs_is_refused_before_queueing():
    # found by Schemathesis: only an activation layer on (T, D) inputs output (N, T, D), which no target fits;
    # the preview's trainer failed with a reshape error (500) instead of validate naming the field
    with pytest.raises(engine.SpecError) as e:
        engine.normalize({"dataset": {"name": "adding"}, "model": {"layers": [{"type": "activation"}], "loss": "hinge"}})
    assert [p.path for p in e.value.problems] == ["model.layers"]
    assert "end the network with a dense layer" in str(e.value)
