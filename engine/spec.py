"""The job spec: its options (as Params), limits, normalize() and validate().

normalize() returns a deep copy with every default filled in, or raises SpecError listing every
problem with its field path. validate() returns that list instead of raising.
"""
from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

from .errors import Problem, SpecError
from .params import Param, resolve_params
from .regularization import REGULARIZATION_OPTIONS


@dataclass(frozen=True)
class Limits:
    """Hard caps that keep one job from exhausting the machine; the server may lower them."""
    max_layers: int = 32
    max_units: int = 4096
    max_params: int = 5_000_000
    max_epochs: int = 100_000
    max_samples: int = 100_000        # rows of training data (images or points)
    max_inline_points: int = 10_000
    max_batch_size: int = 65_536

    def to_json(self) -> dict:
        return asdict(self)


DEFAULT_LIMITS = Limits()

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
                                                    "train_loss", "train_accuracy", "val_r2", "test_r2")),
    Param("patience", "int", 10, 0, 100_000, help="epochs without improvement before stopping"),
    Param("min_delta", "float", 0.0, 0, 1e6, help="smallest change that counts as improvement"),
    Param("restore_best_weights", "bool", True),
]
STREAM_OPTIONS = [
    Param("boundary", "bool", True, help="send the decision boundary (2-D datasets)"),
    Param("resolution", "int", 64, 8, 256, help="boundary grid cells per side"),
    Param("neuron_resolution", "int", 16, 4, 64, help="per-neuron map cells per side"),
    Param("histograms", "bool", True, help="send weight and gradient histograms"),
    Param("bins", "int", 30, 4, 200),
    Param("max_fps", "float", 20.0, 0.1, 1000, help="frames (boundary, histograms) per second at most"),
    Param("max_epochs_per_second", "float", None, 1, 100_000, nullable=True,
          help="pace training so people can watch it learn; empty = full speed"),
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
    from .optimizers import make_optimizer
    from .schedules import make_schedule
    out = _collect(problems, resolve_params, TRAINING_OPTIONS, training, "training", TRAINING_SECTIONS) or {}
    opt = training.get("optimizer") or {"name": "sgd"}
    if _collect(problems, make_optimizer, opt):
        out["optimizer"] = {"name": opt["name"], **make_optimizer(opt).config}
    sched = training.get("lr_schedule") or {"name": "constant"}
    if _collect(problems, make_schedule, sched, 1):
        s = dict(sched)
        out["lr_schedule"] = {"name": s.pop("name", "constant"), **make_schedule(sched, 1).config}
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
    """Deep copy of `job_spec` with defaults filled; raises SpecError listing every problem."""
    from .advice import expected_task, output_problems
    from .datasets import DATASETS
    from .model import normalize_model_spec
    if not isinstance(job_spec, dict):
        raise SpecError("a job spec must be a JSON object with dataset, model and training", "")
    problems: list[Problem] = [Problem(k, f"unknown section; allowed: {', '.join(TOP_KEYS)}")
                               for k in job_spec if k not in TOP_KEYS]
    spec = copy.deepcopy(job_spec)
    for key in ("dataset", "model"):
        if not isinstance(spec.get(key), dict):
            problems.append(Problem(key, "is required and must be an object"))
    if problems:
        raise SpecError(problems)
    dataset = _collect(problems, normalize_dataset_spec, spec["dataset"], limits)
    input_shape = dataset_input_shape(dataset) if dataset else None
    model = _collect(problems, normalize_model_spec, spec["model"], input_shape)
    training = _normalize_training(_section(spec, "training", "training", problems), problems)
    stream = _collect(problems, resolve_params, STREAM_OPTIONS, _section(spec, "stream", "stream", problems), "stream")
    if model:
        _check_model_limits(model, limits, problems)
        task = expected_task(dataset) if dataset else None
        if task:
            problems.extend(output_problems(model, *task))
    if training.get("epochs") and training["epochs"] > limits.max_epochs:
        problems.append(Problem("training.epochs", f"must be <= {limits.max_epochs}, got {training['epochs']}"))
    if training.get("augmentation") and dataset and DATASETS.get(dataset["name"]).kind != "image":
        problems.append(Problem("training.augmentation", "augmentation applies to image datasets (mnist, fashion_mnist) only"))
    es = training.get("early_stopping")
    if es and es["monitor"].startswith("val_") and not training.get("validation_split") \
            and not (dataset or {}).get("validation_split"):
        problems.append(Problem("training.early_stopping.monitor",
                                f"{es['monitor']} needs a validation set: set training.validation_split > 0 "
                                "or monitor test_loss / test_accuracy"))
    if problems:
        raise SpecError(problems)
    return {"dataset": dataset, "model": model, "training": training, "stream": stream}


DATASET_OWN_KEYS = ("name", "features", "preprocessing")
IMAGE_SHAPE = (1, 28, 28)


def normalize_dataset_spec(spec: dict, limits: Limits = DEFAULT_LIMITS) -> dict:
    """Dataset part with defaults filled, checked against the dataset's Params and the limits."""
    from .datasets import DATASETS
    from .datasets.features import check_features
    from .preprocessing import make_preprocessor
    problems: list[Problem] = []
    entry = DATASETS.get(spec.get("name"), "dataset.name")
    own = {k: v for k, v in spec.items() if k not in DATASET_OWN_KEYS and k not in entry.extra_keys}
    out = {"name": spec["name"], **(_collect(problems, resolve_params, entry.options, own, "dataset") or {})}
    for key in entry.extra_keys:
        if key in spec:
            out[key] = spec[key]
    if entry.kind in ("2d", "gates", "inline"):
        out["features"] = _collect(problems, check_features, spec.get("features"), "dataset.features")
    elif spec.get("features") is not None:
        problems.append(Problem("dataset.features", f"input features apply to 2-D datasets only, not {spec['name']}"))
    if spec.get("preprocessing"):
        pre = spec["preprocessing"]
        pre = {"name": pre} if isinstance(pre, str) else pre
        if _collect(problems, make_preprocessor, pre) is not None:
            out["preprocessing"] = pre
    else:
        out["preprocessing"] = None
    if entry.kind == "inline":
        n = len(spec.get("x") or [])
        if n > limits.max_inline_points:
            problems.append(Problem("dataset.x", f"at most {limits.max_inline_points} points, got {n}"))
    for key in ("n_samples", "limit"):
        if isinstance(out.get(key), int) and out[key] > limits.max_samples:
            problems.append(Problem(f"dataset.{key}", f"must be <= {limits.max_samples}, got {out[key]}"))
    if problems:
        raise SpecError(problems)
    return out


def dataset_input_shape(dataset: dict) -> tuple | None:
    """Per-sample input shape implied by a normalized dataset spec (None if it depends on the data)."""
    from .datasets import DATASETS
    entry = DATASETS.get(dataset["name"])
    if entry.kind == "image":
        return (IMAGE_SHAPE[1] * IMAGE_SHAPE[2],) if dataset.get("flatten") else IMAGE_SHAPE
    if dataset.get("features"):
        return (len(dataset["features"]),)
    return None


def _check_model_limits(model: dict, limits: Limits, problems: list) -> None:
    from .model import count_params
    if len(model["layers"]) > limits.max_layers:
        problems.append(Problem("model.layers", f"at most {limits.max_layers} layers, got {len(model['layers'])}"))
    for i, layer in enumerate(model["layers"]):
        for key in ("units", "filters"):
            if isinstance(layer.get(key), int) and layer[key] > limits.max_units:
                problems.append(Problem(f"model.layers.{i}.{key}", f"must be <= {limits.max_units}, got {layer[key]}"))
    n = _collect(problems, count_params, model)
    if n is not None and n > limits.max_params:
        problems.append(Problem("model", f"has {n:,} parameters; the limit is {limits.max_params:,}"))


def validate(job_spec: dict, limits: Limits = DEFAULT_LIMITS) -> list[Problem]:
    """Every problem in `job_spec` (empty list when it can be trained), without training."""
    try:
        normalize(job_spec, limits)
    except SpecError as e:
        return e.problems
    return []
