"""Property tests (Hypothesis): random valid job specs train one epoch; random invalid ones (a valid spec
with one mutation) are refused by engine.validate with a field path, never with another exception."""
from __future__ import annotations

import copy
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.datasets import DATASETS, FEATURES

TWO_D = [n for n, e in DATASETS.items() if e.kind == "2d"]
GATES = [n for n, e in DATASETS.items() if e.kind == "gates"]
HIDDEN_ACTIVATIONS = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"]
# output heads that fit a task: (final activation, loss, units: "classes" | "one" | "targets")
HEADS = {"classification": [("softmax", "categorical_crossentropy", "classes"), ("linear", "hinge", "classes")],
         "binary": [("sigmoid", "binary_crossentropy", "one")],
         "regression": [("linear", "mean_squared_error", "targets"), ("tanh", "mean_squared_error", "targets")]}
PROPERTY_SETTINGS = dict(deadline=None, derandomize=True, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

small_float = st.floats(-5, 5, allow_nan=False, width=32).map(lambda v: round(float(v), 3))


@st.composite
def datasets(draw):
    """(dataset spec, task, n_classes, n_targets) of a small cheap dataset."""
    kind = draw(st.sampled_from(["2d", "gates", "inline"]))
    if kind == "2d":
        name = draw(st.sampled_from(TWO_D))
        spec = {"name": name, "n_samples": draw(st.integers(10, 60)), "noise": draw(st.sampled_from([0.0, 0.1, 0.5])),
                "test_ratio": draw(st.sampled_from([0.2, 0.5])), "seed": draw(st.integers(0, 5))}
        if name in ("spiral", "blobs"):
            spec["n_classes"] = draw(st.integers(2, 4))
        if draw(st.booleans()):
            spec["features"] = draw(st.lists(st.sampled_from(FEATURES.names()), min_size=1, max_size=4, unique=True))
        task = DATASETS.get(name).task
        return spec, task, spec.get("n_classes", 2) if task == "classification" else None, 1
    if kind == "gates":
        spec = {"name": draw(st.sampled_from(GATES)), "repeat": draw(st.integers(1, 3))}
        return spec, "classification", 2, 1
    width, n = draw(st.integers(1, 4)), draw(st.integers(2, 12))
    x = draw(st.lists(st.lists(small_float, min_size=width, max_size=width), min_size=n, max_size=n))
    if draw(st.booleans()):
        k = draw(st.integers(2, 3))
        y = [i % k for i in range(n)]             # every class present, so the count is k
        return {"name": "inline", "x": x, "y": y}, "classification", k, 1
    targets = draw(st.integers(1, 2))
    y = draw(st.lists(st.lists(small_float, min_size=targets, max_size=targets), min_size=n, max_size=n))
    return {"name": "inline", "x": x, "y": y, "task": "regression"}, "regression", None, targets


@st.composite
def valid_specs(draw):
    dataset, task, n_classes, n_targets = draw(datasets())
    heads = HEADS[task] + (HEADS["binary"] if n_classes == 2 else [])
    activation, loss, rule = draw(st.sampled_from(heads))
    units = {"classes": n_classes, "one": 1, "targets": n_targets}[rule]
    hidden = draw(st.lists(st.fixed_dictionaries({"type": st.just("dense"), "units": st.integers(1, 6),
                                                  "activation": st.sampled_from(HIDDEN_ACTIVATIONS)}), max_size=2))
    optimizer = {"name": draw(st.sampled_from(engine.OPTIMIZERS.names())),
                 "learning_rate": draw(st.sampled_from([0.001, 0.01, 0.1]))}
    training = {"epochs": 1, "optimizer": optimizer, "batch_size": draw(st.sampled_from([None, 1, 4, 16])),
                "seed": draw(st.integers(0, 3))}
    if draw(st.booleans()):
        training["regularization"] = {"l2": draw(st.sampled_from([0.0, 1e-4, 0.01]))}
    if draw(st.booleans()):
        training["validation_split"] = 0.2
        training["early_stopping"] = {"monitor": draw(st.sampled_from(["train_loss", "val_loss"])), "patience": 0}
    dataset["preprocessing"] = draw(st.sampled_from([None, "standardize", "center", "minmax", "pca_whiten"]))
    return {"dataset": dataset,
            "model": {"layers": [*hidden, {"type": "dense", "units": units, "activation": activation}], "loss": loss},
            "training": training,
            "stream": {"resolution": 8, "neuron_resolution": 4, "bins": 4, "histograms": draw(st.booleans())}}


@settings(max_examples=40, **PROPERTY_SETTINGS)
@given(valid_specs())
def test_random_valid_specs_validate_and_train_one_epoch(spec):
    assert engine.validate(spec) == []
    norm = engine.normalize(spec)
    assert engine.normalize(norm) == norm    # the server stores the normalized spec; the worker trains it as is
    result = engine.train(spec)
    assert result.outcome in ("completed", "diverged"), result.message
    if result.outcome == "completed":
        assert len(result.history) == 1 and math.isfinite(result.history[0]["train_loss"])


def _set(spec: dict, path: str, value) -> dict:
    spec = copy.deepcopy(spec)
    *parents, last = path.split(".")
    node = spec
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return spec


NUMBER_FIELDS = ["training.epochs", "training.batch_size", "training.optimizer.learning_rate", "training.seed",
                 "model.layers.0.units", "stream.resolution", "stream.bins", "dataset.seed"]
OUT_OF_RANGE = [("training.epochs", 0), ("training.epochs", 10**9), ("training.batch_size", 0),
                ("training.optimizer.learning_rate", -0.1), ("training.optimizer.learning_rate", 0),
                ("model.layers.0.units", 0), ("model.layers.0.units", 10**6), ("stream.resolution", 2),
                ("dataset.seed", -1), ("training.validation_split", 0.9), ("training.regularization.l2", -1)]
UNKNOWN_NAMES = ["dataset.name", "model.loss", "model.layers.0.type", "model.layers.0.activation",
                 "model.layers.0.kernel_initializer", "training.optimizer.name", "training.lr_schedule.name"]
UNKNOWN_KEYS = ["bogus", "dataset.bogus", "model.bogus", "model.layers.0.bogus", "training.bogus", "stream.bogus",
                "training.optimizer.bogus"]
BAD_INLINE = [{"name": "inline", "x": [[0, 0], [1]], "y": [0, 1]},
              {"name": "inline", "x": [[0, "1"], [1, 1]], "y": [0, 1]},
              {"name": "inline", "x": [[0, 0], [1, 1]], "y": [0]},
              {"name": "inline", "x": [], "y": []},
              {"name": "inline", "x": [[0, None]], "y": [0]},
              {"name": "inline", "x": [[0, 0]], "y": [[0.5, 1]], "test_x": [[1, 1]], "test_y": [[0.5]]},
              {"name": "inline", "csv": "a,b,label\n1,2\n"}]


@st.composite
def invalid_specs(draw):
    spec = draw(valid_specs())
    kind = draw(st.sampled_from(["type", "range", "name", "key", "data", "shape", "output"]))
    if kind == "type":
        return _set(spec, draw(st.sampled_from(NUMBER_FIELDS)), draw(st.sampled_from(["7", True, [1], {"v": 1}])))
    if kind == "range":
        return _set(spec, *draw(st.sampled_from(OUT_OF_RANGE)))
    if kind == "name":
        return _set(spec, draw(st.sampled_from(UNKNOWN_NAMES)), draw(st.sampled_from(["nope", "Relu", 3, ""])))
    if kind == "key":
        return _set(spec, draw(st.sampled_from(UNKNOWN_KEYS)), draw(st.sampled_from([1, "x", None, {}])))
    if kind == "data":
        return _set(spec, "dataset", draw(st.sampled_from(BAD_INLINE)))
    if kind == "shape":
        valid = engine.normalize(spec)["model"]["input_shape"]
        return _set(spec, "model.input_shape", [valid[0] + draw(st.integers(1, 3))])
    last = len(spec["model"]["layers"]) - 1
    return _set(spec, f"model.layers.{last}.units", spec["model"]["layers"][last]["units"] + 2)


@settings(max_examples=150, **PROPERTY_SETTINGS)
@given(invalid_specs())
def test_random_invalid_specs_are_refused_with_a_field_path(spec):
    problems = engine.validate(spec)
    assert problems, "a mutated spec was accepted"
    for p in problems:
        assert isinstance(p.path, str) and p.path, p
        assert isinstance(p.message, str) and p.message, p


size = st.integers(1, 8)
LAYER_SPECS = st.one_of(
    st.fixed_dictionaries({"type": st.just("dense"), "units": st.integers(1, 8),
                           "activation": st.sampled_from(HIDDEN_ACTIVATIONS)}),
    st.fixed_dictionaries({"type": st.just("conv2d"), "filters": st.integers(1, 3),
                           "kernel_size": st.one_of(st.integers(1, 15), st.lists(st.integers(1, 15), min_size=2,
                                                                                 max_size=2)),
                           "strides": st.integers(1, 8), "padding": st.sampled_from(["valid", "same"])}),
    st.fixed_dictionaries({"type": st.sampled_from(["maxpool2d", "avgpool2d"]), "pool_size": size,
                           "strides": st.one_of(st.none(), size)}),
    st.fixed_dictionaries({"type": st.just("maxout"), "units": st.integers(1, 6), "pieces": st.integers(2, 4)}),
    st.fixed_dictionaries({"type": st.sampled_from(["flatten", "batchnorm"])}),
    st.fixed_dictionaries({"type": st.just("dropout"), "rate": st.sampled_from([0.0, 0.5])}),
)


@st.composite
def layer_stacks(draw):
    """Random layer stacks on 28x28 images (declared, never read) or 3-column inline rows; many do not fit."""
    if draw(st.booleans()):
        dataset = {"name": "mnist", "flatten": draw(st.booleans())}
        head = [{"type": "flatten"}, {"type": "dense", "units": 10, "activation": "softmax"}]
    else:
        dataset = {"name": "inline", "x": [[0, 1, 2], [1, 0, 1], [2, 2, 0]], "y": [0, 1, 1]}
        head = [{"type": "dense", "units": 2, "activation": "softmax"}]
    layers = draw(st.lists(LAYER_SPECS, min_size=1, max_size=4))
    return {"dataset": dataset, "model": {"layers": layers + head, "loss": "categorical_crossentropy"},
            "training": {"epochs": 1}}


@settings(max_examples=120, **PROPERTY_SETTINGS)
@given(layer_stacks())
def test_a_layer_stack_that_validates_builds_and_runs_forward(spec):
    # the shape walk at validation must be the truth: what it accepts builds, what it refuses has a path
    problems = engine.validate(spec)
    assert all(p.path.startswith("model.layers.") and p.message for p in problems), problems
    if problems:
        return
    import numpy as np
    model = engine.build_model(engine.normalize(spec)["model"])
    out = model.forward(np.zeros((2, *model.input_shape), dtype=np.float32))
    assert out.shape == (2, *model.output_shape)
