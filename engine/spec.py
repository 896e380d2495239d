"""The job spec: its options (as Params), limits, normalize() and validate().

normalize() returns a deep copy with every default filled in, or raises SpecError listing every
problem with its field path. validate() returns that list instead of raising.
"""
from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from .errors import DataError, Problem, SpecError
from .params import Param, resolve_params
from .regularization import REGULARIZATION_OPTIONS

if TYPE_CHECKING:
    from .datasets.base import DataFacts


from .limits import DEFAULT_LIMITS, Limits  # noqa: F401  (re-exported: engine.spec.Limits)

TRAINING_OPTIONS = [
    Param("batch_size", "int", 32, 1, DEFAULT_LIMITS.max_batch_size, nullable=True,
          help="examples per step; empty = full batch, 1 = stochastic"),
    Param("epochs", "int", 100, 1, DEFAULT_LIMITS.max_epochs, nullable=True,
          help="passes over the training set; empty = until paused or cancelled (at most the epoch limit)"),
    Param("validation_split", "float", 0.0, 0, 0.5, help="last fraction of the training set held out for validation"),
    Param("seed", "int", 0, 0, 2**31 - 1, help="same seed, same starting weights and batches"),
]
EARLY_STOPPING_OPTIONS = [
    Param("monitor", "choice", "val_loss", choices=("val_loss", "val_accuracy", "test_loss", "test_accuracy",
                                                    "train_loss", "train_accuracy", "val_r2", "test_r2",
                                                    "val_reconstruction_error", "test_reconstruction_error")),
    Param("patience", "int", 10, 0, 100_000, help="epochs without improvement before stopping"),
    Param("min_delta", "float", 0.0, 0, 1e6, help="smallest change that counts as improvement"),
    Param("restore_best_weights", "bool", True),
]
STREAM_OPTIONS = [
    Param("boundary", "bool", True, help="send the decision boundary (2-D datasets)"),
    Param("resolution", "int", 64, 8, 256, help="boundary grid cells per side"),
    Param("neuron_resolution", "int", 16, 4, 64, help="per-neuron map cells per side"),
    Param("histograms", "bool", True, help="send weight and gradient histograms"),
    Param("time_gradients", "bool", True,
          help="send ||dL/dh_t|| per time step of each recurrent layer (networks with simple_rnn / lstm)"),
    Param("bins", "int", 30, 4, 200),
    Param("max_fps", "float", 20.0, 0.1, 1000, help="frames (boundary, histograms) per second at most"),
    Param("max_epochs_per_second", "float", None, 1, 100_000, nullable=True,
          help="pace training so people can watch it learn; empty = full speed"),
    Param("hidden_layer", "int", None, 0, DEFAULT_LIMITS.max_layers - 1, nullable=True,
          help="2-D data: also stream the hidden space, the data and the input grid as this layer sees them"),
    Param("hidden_units", "int_list", None, 0, DEFAULT_LIMITS.max_units - 1, nullable=True,
          help="the two units to draw of a wider hidden layer; empty = its first two principal directions"),
]
TOP_KEYS = ("dataset", "model", "training", "stream")
TRAINING_SECTIONS = ("optimizer", "regularization", "lr_schedule", "early_stopping", "augmentation")


def _section(spec: dict, key: str, path: str, problems: list) -> dict:
    value = spec.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(Problem(path, f"must be an object, got {type(value).__name__}"))
        return {}
    return value


def _collect(problems: list, fn, *args):
    try:
        return fn(*args)
    except SpecError as e:
        problems.extend(e.problems)
        return None


def _normalize_training(training: dict, problems: list) -> dict:
    from .augment import AUGMENTATION_OPTIONS
    from .optimizers import OPTIMIZERS
    from .schedules import SCHEDULES
    out = _collect(problems, resolve_params, TRAINING_OPTIONS, training, "training", TRAINING_SECTIONS) or {}
    # a name or {"name": ..., options}; null or no name: the registry's default (sgd, constant)
    out["optimizer"] = _collect(problems, OPTIMIZERS.normalize, training.get("optimizer"), "training.optimizer")
    out["lr_schedule"] = _collect(problems, SCHEDULES.normalize, training.get("lr_schedule"), "training.lr_schedule")
    out["regularization"] = _collect(problems, resolve_params, REGULARIZATION_OPTIONS,
                                     _section(training, "regularization", "training.regularization", problems),
                                     "training.regularization")
    es = training.get("early_stopping")
    out["early_stopping"] = None if not es else _collect(
        problems, resolve_params, EARLY_STOPPING_OPTIONS, _section(training, "early_stopping",
                                                                   "training.early_stopping", problems),
        "training.early_stopping")
    aug = training.get("augmentation")
    out["augmentation"] = None if not aug else _collect(
        problems, resolve_params, AUGMENTATION_OPTIONS, _section(training, "augmentation", "training.augmentation",
                                                                  problems), "training.augmentation")
    return out


def normalize(job_spec: dict, limits: Limits = DEFAULT_LIMITS) -> dict:
    """Copy of `job_spec` with defaults filled (inline data lists are shared, everything else is copied);
    raises SpecError listing every problem.

    Cheap datasets are built here (see prepare_dataset), so a spec that normalizes trains: every data,
    shape and output-layer problem is found before a job is queued. For inline data the normalized
    dataset part also carries the task and class count the data implies.
    """
    from .datasets import DATASETS
    if not isinstance(job_spec, dict):
        raise SpecError("a job spec must be a JSON object with dataset, model and training", "")
    problems: list[Problem] = [Problem(k, f"unknown section; allowed: {', '.join(TOP_KEYS)}")
                               for k in job_spec if k not in TOP_KEYS]
    spec = _copy_spec(job_spec)
    for key in ("dataset", "model"):
        if not isinstance(spec.get(key), dict):
            problems.append(Problem(key, "is required and must be an object"))
    if problems:
        raise SpecError(problems)
    dataset, facts = _collect(problems, prepare_dataset, spec["dataset"], limits) or (None, None)
    model = _normalize_model(spec["model"], facts, limits, problems)
    training = _normalize_training(_section(spec, "training", "training", problems), problems)
    stream = _collect(problems, resolve_params, STREAM_OPTIONS, _section(spec, "stream", "stream", problems), "stream")
    if training.get("epochs") and training["epochs"] > limits.max_epochs:
        problems.append(Problem("training.epochs", f"must be <= {limits.max_epochs}, got {training['epochs']}"))
    if training.get("augmentation") and dataset and DATASETS.get(dataset["name"]).kind != "image":
        problems.append(Problem("training.augmentation", "augmentation applies to image datasets (mnist, fashion_mnist) only"))
    problems.extend(_training_fits_data(training, dataset, facts))
    if stream and model:
        from .hidden_space import hidden_space_problems
        problems.extend(hidden_space_problems(model, stream, dataset))
    if problems:
        raise SpecError(problems)
    out = {"dataset": dataset, "model": model, "training": training, "stream": stream}
    from .memory import memory_problems  # a spec that passes every other check: does it fit in memory?
    if model.get("type") != "knn":       # k-NN's cost is its distance pairs, capped by max_knn_pairs
        problems.extend(memory_problems(out, facts, limits))
    if problems:
        raise SpecError(problems)
    return out


INLINE_DATA_KEYS = ("x", "y", "test_x", "test_y", "csv")


def _copy_spec(job_spec: dict) -> dict:
    """Deep copy, except inline data (up to a million numbers, read and never written): those lists are
    shared with the caller, since deep-copying them cost a second per request for nothing."""
    dataset = job_spec.get("dataset")
    memo: dict = {}
    if isinstance(dataset, dict):
        for key in INLINE_DATA_KEYS:
            if key in dataset:
                memo[id(dataset[key])] = dataset[key]   # deepcopy returns what the memo holds
    return copy.deepcopy(job_spec, memo)


def _normalize_model(given: dict, facts: DataFacts | None, limits: Limits, problems: list) -> dict | None:
    """Model part with defaults filled, its shapes walked through every layer and its output checked
    against the data. Without the data's facts (the dataset part has problems) only the layers are checked."""
    from .advice import output_problems, resolve_null_units
    from .model import normalize_model_spec
    shape_known = facts is not None or "input_shape" in given
    model = _collect(problems, normalize_model_spec, given, facts.input_shape if facts else [1])
    if model is None:
        return None
    unresolved = [] if model.get("type") == "knn" else resolve_null_units(
        model, *((facts.task, facts.n_classes, facts.n_targets) if facts else (None, None, None)))
    if unresolved:                        # an unknown width: no shape walk, no output check
        problems.extend(p for p in unresolved if facts is not None or "not known" not in p.message)
        return model
    if facts is not None and tuple(model["input_shape"]) != tuple(facts.input_shape):
        problems.append(Problem("model.input_shape", f"is {list(model['input_shape'])} but the dataset's inputs have "
                                                     f"shape {list(facts.input_shape)}; leave it out to take the "
                                                     "dataset's"))
        return model
    if model.get("type") == "knn":
        from .knn import knn_problems
        if facts is not None:
            problems.extend(knn_problems(model, facts, limits))
        return model
    _check_model_limits(model, limits, problems, shape_known)
    if facts is not None:
        problems.extend(output_problems(model, facts.task, facts.n_classes, facts.n_targets or 1))
    return model


def _training_fits_data(training: dict, dataset: dict | None, facts: DataFacts | None) -> list[Problem]:
    """Training options that only the data can rule out: a monitor the task never computes, a
    validation split that leaves nothing to train on."""
    from .datasets.base import validation_count
    from .metrics import score_name
    problems = []
    es = training.get("early_stopping")
    if es and es["monitor"].startswith("val_") and not training.get("validation_split") \
            and not (dataset or {}).get("validation_split"):
        problems.append(Problem("training.early_stopping.monitor",
                                f"{es['monitor']} needs a validation set: set training.validation_split > 0 "
                                "or monitor test_loss / test_accuracy"))
    if facts is None:
        return problems
    score = score_name(facts.task)
    if es and not es["monitor"].endswith(("_loss", f"_{score}")):
        problems.append(Problem("training.early_stopping.monitor",
                                f"{es['monitor']} is not computed for a {facts.task} dataset; monitor a loss "
                                f"or *_{score}"))
    split = training.get("validation_split")
    own_split = (dataset or {}).get("validation_split")   # a dataset with its own validation set keeps it
    n = facts.n_train
    if split and not own_split and n is not None and validation_count(n, split) >= n:
        problems.append(Problem("training.validation_split",
                                f"leaves no training examples: the dataset has {n}"))
    return problems


def prepare_dataset(spec: dict, limits: Limits = DEFAULT_LIMITS) -> tuple[dict, DataFacts]:
    """(normalized dataset part, DataFacts). Cheap sets (2-D, gates, inline, CSV) are built, so every
    problem the loader can find is found here, with its field path; image sets are never read here,
    they declare their shapes. Inline data gets the task, class count and features the data implies."""
    from .datasets import DATASETS, load_dataset
    from .datasets.target import reconstruction_facts
    out = normalize_dataset_spec(spec, limits)
    entry = DATASETS.get(out["name"])
    if hasattr(entry, "declared"):
        facts = entry.declared(out)
        return out, (reconstruction_facts(facts) if out["target"] == "input" else facts)
    try:
        ds = load_dataset(out)
    except SpecError:
        raise
    except DataError as e:
        raise SpecError(str(e), "dataset") from None
    except Exception as e:  # noqa: BLE001 - a loader bug must reach the user as a field problem, not a traceback
        raise SpecError(f"could not be built from these values ({type(e).__name__})", "dataset") from None
    if entry.kind == "inline":   # an autoencoder keeps the labels' own task (the data's, not the model's)
        out.update(features=ds.features, **({} if out["target"] == "input" else
                                            {"task": ds.task, "n_classes": ds.n_classes}))
    return out, ds.facts()


def normalize_dataset_spec(spec: dict, limits: Limits = DEFAULT_LIMITS) -> dict:
    """Dataset part with defaults filled, checked against the dataset's Params and the limits (the data
    itself is checked by prepare_dataset)."""
    from .datasets import DATASETS
    from .datasets.features import check_features
    from .preprocessing import make_preprocessor
    problems: list[Problem] = []
    entry = DATASETS.get(spec.get("name"), "dataset.name")  # an unknown name stops here: nothing else applies
    out = _collect(problems, DATASETS.normalize, spec, "dataset") or {"name": entry.name}
    for key in entry.extra_keys:
        if key in spec:
            out[key] = spec[key]
    if entry.kind in ("2d", "gates"):
        out["features"] = _collect(problems, check_features, spec.get("features"), "dataset.features")
    elif entry.kind == "inline":
        # features apply to 2-column rows only; which width the rows have, the data tells (prepare_dataset)
        given = spec.get("features")
        out["features"] = None if given is None else _collect(problems, check_features, given, "dataset.features")
    elif spec.get("features") is not None:
        problems.append(Problem("dataset.features", f"input features apply to 2-D datasets only, not {spec['name']}"))
    from .datasets.target import normalize_target
    out.update(_collect(problems, normalize_target, spec, "dataset") or {})
    if spec.get("preprocessing"):
        pre = spec["preprocessing"]
        pre = {"name": pre} if isinstance(pre, str) else pre
        if _collect(problems, make_preprocessor, pre) is not None:
            out["preprocessing"] = pre
    else:
        out["preprocessing"] = None
    if entry.kind == "inline":
        for key in ("x", "test_x"):
            n = len(spec[key]) if isinstance(spec.get(key), (list, tuple)) else 0
            if n > limits.max_inline_points:
                problems.append(Problem(f"dataset.{key}", f"at most {limits.max_inline_points} points, got {n}"))
    for key in ("n_samples", "limit"):
        if isinstance(out.get(key), int) and out[key] > limits.max_samples:
            problems.append(Problem(f"dataset.{key}", f"must be <= {limits.max_samples}, got {out[key]}"))
    if problems:
        raise SpecError(problems)
    return out


def _check_model_limits(model: dict, limits: Limits, problems: list, shapes: bool = True) -> None:
    """Layer count and sizes; with `shapes`, the shape walk (count_params, no allocation), the parameter
    limit, and explicit weights (checked by building, once the size is known to be allowed)."""
    from .model import build_model, count_params
    if len(model["layers"]) > limits.max_layers:
        problems.append(Problem("model.layers", f"at most {limits.max_layers} layers, got {len(model['layers'])}"))
    for i, layer in enumerate(model["layers"]):
        for key in ("units", "filters"):
            if isinstance(layer.get(key), int) and layer[key] > limits.max_units:
                problems.append(Problem(f"model.layers.{i}.{key}", f"must be <= {limits.max_units}, got {layer[key]}"))
    if not shapes:
        return
    n = _guarded(problems, "model.layers", count_params, model)
    if n is not None and n > limits.max_params:
        problems.append(Problem("model", f"has {n:,} parameters; the limit is {limits.max_params:,}"))
    elif n is not None and any("weights" in layer for layer in model["layers"]):
        _guarded(problems, "model.layers", build_model, model)


def _guarded(problems: list, path: str, fn, *args):
    """fn(*args); its SpecError problems are collected, anything else becomes a problem at `path`."""
    try:
        return fn(*args)
    except SpecError as e:
        problems.extend(e.problems)
    except Exception as e:  # noqa: BLE001 - never let a NumPy message or a traceback reach the user
        problems.append(Problem(path, f"cannot be built ({type(e).__name__}); check the layer sizes and shapes"))
    return None


def validate(job_spec: dict, limits: Limits = DEFAULT_LIMITS) -> list[Problem]:
    """Every problem in `job_spec` (empty list when it can be trained), without training."""
    try:
        normalize(job_spec, limits)
    except SpecError as e:
        return e.problems
    return []
