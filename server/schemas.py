"""Pydantic request/response models. Every name, option, range and default comes from the engine's
registries and Param lists (generated here with create_model), so /docs and /openapi.json document each
optimizer's, layer's, dataset's... options and nothing is listed twice. The generated models are strict
(no "10" for 10, no true for 1; an int is fine where a float is asked) and never refuse what the engine
accepts; engine.normalize then checks the rest (cross-field rules, shapes, limits), and its problems
become 422s naming the field.
"""
from __future__ import annotations

import functools
import re
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Strict, Tag, create_model,
                      model_validator)

import engine
from engine.augment import AUGMENTATION_OPTIONS
from engine.control import COMMANDS
from engine.datasets import DATASETS, FEATURES
from engine.datasets.target import TARGET_OPTIONS
from engine.knn import KNN_OPTIONS
from engine.layer_flags import LAYER_FLAGS
from engine.layers import WeightedLayer
from engine.model import DTYPES
from engine.params import Param
from engine.preprocessing import PREPROCESSORS
from engine.registry import Registry
from engine.regularization import REGULARIZATION_OPTIONS
from engine.sampling import generate_options
from engine.limits import DEFAULT_LIMITS
from engine.spec import EARLY_STOPPING_OPTIONS, STREAM_OPTIONS, TRAINING_OPTIONS

from .jobs.storage import JOB_STATES

STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)


def names(registry) -> Any:
    """Literal['a', 'b', ...] of a registry's names."""
    return Literal[tuple(registry.names())]


# -- one engine Param -> one strict pydantic field -------------------------------------------------------
def _whole_number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def scalar(kind: str, **bounds) -> Any:
    """A strict int / float / bool / str type; bounds go first so the JSON schema shows them as minimum/maximum."""
    if kind == "int":  # 8.0 -> 8, as the engine's Param does; anything else goes on to the strict int check
        return Annotated[int, Field(**bounds), BeforeValidator(_whole_number), Strict()]
    return Annotated[{"float": float, "bool": bool, "str": str}[kind], Field(**bounds), Strict()]


def _bounds(p: Param) -> dict:
    bounds = {}
    if p.min is not None:
        bounds["gt" if p.min_exclusive else "ge"] = p.min
    if p.max is not None:
        bounds["le"] = p.max
    return bounds


def param_field(p: Param) -> tuple[Any, Any]:
    """(type, Field) for one engine Param: ranges, choices, defaults and help carried over."""
    if p.kind == "choice":
        # a registry as choices (an activation, an initializer) takes a name or {"name": ..., options}
        kind = ref(p.choices) if isinstance(p.choices, Registry) else Literal[tuple(p.choices)]
    elif p.kind.endswith("_list"):
        item = scalar(p.kind.removesuffix("_list"), **_bounds(p))
        kind = Union[item, Annotated[list[item], Field(min_length=1)]]  # the engine takes n for [n]
    else:
        kind = scalar(p.kind, **_bounds(p))
    if p.nullable:
        kind = Optional[kind]
    return kind, Field(p.default, description=p.help or None)


def params_model(name: str, params: list[Param], config: ConfigDict = STRICT, **extra) -> type[BaseModel]:
    fields = {p.name: param_field(p) for p in params}
    fields.update(extra)
    return create_model(name, __config__=config, **fields)


# -- registries -> discriminated unions ------------------------------------------------------------------
NAME_TAG = "<name>"  # the branch of a ref given as a bare name ("relu"); never a registered name


def _camel(text: str) -> str:
    return "".join(part.title() for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def entry_model(registry: Registry, entry: Any, skip: tuple = (), **extra) -> type[BaseModel]:
    """{key: name, **options} of one entry, e.g. OptimizerAdam: {"name": "adam", "learning_rate", ...}."""
    key_default = entry.name if entry.name == registry.default else ...
    fields = {p.name: param_field(p) for p in entry.options if p.name not in skip}
    return create_model(f"{_camel(registry.family)}{_camel(entry.name)}", __doc__=entry.doc or None,
                        __config__=STRICT, **{registry.key: (Literal[entry.name], key_default)}, **fields, **extra)


def _tagger(registry: Registry, bare_names: bool):
    def tag(value: Any) -> str | None:
        if isinstance(value, str) and bare_names:
            return NAME_TAG
        if isinstance(value, dict):
            name = value.get(registry.key, registry.default)
        else:  # a validated model, when serialising
            name = getattr(value, registry.key, None)
        return name if isinstance(name, str) and name in registry else None
    return tag


def union(registry: Registry, models: dict[str, type[BaseModel]] | None = None, bare_names: bool = False) -> Any:
    """One model per entry, picked by the entry's `registry.key` ("name", or "type" for layers)."""
    models = models or {name: entry_model(registry, e) for name, e in registry.items()}
    branches = [Annotated[m, Tag(name)] for name, m in models.items()]
    listed = ", ".join(registry.names())
    message = f"unknown {registry.family}; {registry.key} must be one of {listed}"
    if bare_names:
        branches.insert(0, Annotated[names(registry), Tag(NAME_TAG)])
        message = f"must be one of {listed}, or {{\"{registry.key}\": one of them, ...its options}}"
    # error type unknown_<key>: the 422 handler reports it at <field>.<key>
    return Annotated[Union[tuple(branches)], Discriminator(_tagger(registry, bare_names),
                                                           custom_error_type=f"unknown_{registry.key}",
                                                           custom_error_message=message)]


@functools.cache  # one set of models per registry, however many fields refer to it
def ref(registry: Registry) -> Any:
    """A name or {"name": ..., options}: "relu", {"name": "leaky_relu", "alpha": 0.2}."""
    return union(registry, bare_names=True)


ActivationRef = ref(engine.ACTIVATIONS)
InitializerRef = ref(engine.INITIALIZERS)
LossRef = ref(engine.LOSSES)
PreprocessingRef = ref(PREPROCESSORS)
OptimizerSpec = ref(engine.OPTIMIZERS)
ScheduleSpec = ref(engine.SCHEDULES)


def _layer_model(entry) -> type[BaseModel]:
    weights = {"weights": (Optional[dict[str, Any]], Field(None, description="explicit starting weights {W, b}"))}
    flags = {p.name: param_field(p) for p in LAYER_FLAGS}       # any layer: trainable, code
    return entry_model(engine.LAYERS, entry, **flags, **(weights if issubclass(entry, WeightedLayer) else {}))


LayerSpec = union(engine.LAYERS, {name: _layer_model(e) for name, e in engine.LAYERS.items()})


class ModelSpec(BaseModel):
    """A network: layers and a loss."""
    model_config = STRICT
    input_shape: Optional[list[Annotated[int, Strict()]]] = Field(
        None, description="per-sample shape; inferred from the dataset if omitted")
    dtype: Literal[DTYPES] = "float32"
    layers: list[LayerSpec] = Field(min_length=1)
    loss: LossRef


KnnModelSpec = params_model(
    "KnnModelSpec", KNN_OPTIONS, type=(Literal["knn"], ...),
    input_shape=(Optional[list[Annotated[int, Strict()]]], None), dtype=(Literal[DTYPES], "float32"))
KnnModelSpec.__doc__ = "k-nearest neighbours (engine/knn.py): no layers; training stores the training set"


def _model_kind(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "<knn>" if kind == "knn" else "<layers>"     # "<...>": a branch label server/main.py drops from locs


JobModelSpec = Annotated[Union[Annotated[ModelSpec, Tag("<layers>")], Annotated[KnnModelSpec, Tag("<knn>")]],
                      Discriminator(_model_kind)]


SERVER_ONLY_DATASET_KEYS = ("path", "download")


def no_server_side_files(data: Any) -> Any:
    # `path` / `download` make the server read its own folders or fetch from the internet:
    # fine from the CLI, not something any web client may ask for
    for key in SERVER_ONLY_DATASET_KEYS:
        if isinstance(data, dict) and key in data:
            raise ValueError(f"'{key}' cannot be set over the API; the server finds image files in "
                             "NNPLAY_DATA / MNIST_DIR / its cache")
    return data


def _dataset_model(entry) -> type[BaseModel]:
    own = {"features": (Optional[list[names(FEATURES)]], Field(None, description="2-D sets: the input columns")),
           "preprocessing": (Optional[PreprocessingRef], Field(None, description="fitted on the training set")),
           **{p.name: param_field(p) for p in TARGET_OPTIONS}}       # any dataset: target, input_noise
    data = {key: (Any, Field(None, description="data, read by the dataset itself (see its doc)"))
            for key in entry.extra_keys}
    return entry_model(DATASETS, entry, skip=SERVER_ONLY_DATASET_KEYS, **own, **data)


DatasetSpec = Annotated[union(DATASETS, {name: _dataset_model(e) for name, e in DATASETS.items()}),
                        BeforeValidator(no_server_side_files)]

RegularizationSpec = params_model("RegularizationSpec", REGULARIZATION_OPTIONS)
EarlyStoppingSpec = params_model("EarlyStoppingSpec", EARLY_STOPPING_OPTIONS)
AugmentationSpec = params_model("AugmentationSpec", AUGMENTATION_OPTIONS)
StreamSpec = params_model("StreamSpec", STREAM_OPTIONS)
TrainingSpec = params_model(
    "TrainingSpec", TRAINING_OPTIONS,
    optimizer=(Optional[OptimizerSpec], None),
    regularization=(Optional[RegularizationSpec], None),
    lr_schedule=(Optional[ScheduleSpec], None),
    early_stopping=(Optional[EarlyStoppingSpec], None),
    augmentation=(Optional[AugmentationSpec], None),
)

JOB_EXAMPLE = {
    "dataset": {"name": "spiral", "n_samples": 400, "noise": 0.1, "test_ratio": 0.5, "seed": 1},
    "model": {"layers": [{"type": "dense", "units": 16, "activation": "tanh"},
                         {"type": "dense", "units": 16, "activation": "tanh"},
                         {"type": "dense", "units": 2, "activation": "softmax"}],
              "loss": "categorical_crossentropy"},
    "training": {"optimizer": {"name": "adam", "learning_rate": 0.01}, "batch_size": 32, "epochs": 100},
    "stream": {"boundary": True, "resolution": 64, "max_fps": 20},
}


class InitFrom(BaseModel):  # continue a job, or fine-tune from some of its layers
    model_config = ConfigDict(extra="forbid")
    job_id: str = Field(description="a job with a saved model and the same network (layers, input shape)")
    layers: Optional[list[Annotated[int, Strict(), Field(ge=0)]]] = Field(
        None, min_length=1, description="copy only these layers' weights (same type and shapes; the rest and the "
                                        "optimizer start fresh); null: the whole model and its optimizer state")


class JobCreate(BaseModel):
    """A job spec (docs/DESIGN.md "Job spec"); unset options take the engine's defaults."""
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [JOB_EXAMPLE]})
    dataset: DatasetSpec
    model: JobModelSpec
    training: Optional[TrainingSpec] = None
    stream: Optional[StreamSpec] = None
    init_from: Optional[InitFrom] = Field(None, description="start from this job's final weights and optimizer state")
    paused: Annotated[Optional[bool], Strict()] = Field(
        None, description="start paused: the job waits for resume, step or step_batch (the playground's Step "
                          "and +1 batch from idle; a pause sent after creating would race a worker that starts at once)")


JobStatus = Literal[JOB_STATES]


class JobPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "4375443c6a16", "status": "completed", "name": "spiral · 8 tanh · adam 0.01", "renamed": False,
        "spec": {"dataset": {"name": "spiral", "n_samples": 500}, "model": {"input_shape": [2], "layers": [
            {"type": "dense", "units": 8, "activation": "tanh"}, {"type": "dense", "units": 2, "activation": "softmax"}],
            "loss": "categorical_crossentropy"}, "training": {"optimizer": {"name": "adam", "learning_rate": 0.01},
                                                             "epochs": 30, "batch_size": 10}},
        "created_at": 1796160401.57, "started_at": 1796160404.49, "finished_at": 1796160406.24, "epoch": 30,
        "epochs": 30, "progress": 1.0,
        "latest": {"epoch": 30, "train_loss": 0.657, "train_accuracy": 0.61, "test_loss": 0.721, "test_accuracy": 0.48,
                   "learning_rate": 0.01, "seconds": 0.0012, "examples_per_second": 89899.0},
        "best": {"epoch": 29, "train_loss": 0.657, "train_accuracy": 0.62, "test_loss": 0.714, "test_accuracy": 0.49},
        "outcome": "completed", "message": "completed 30 epochs", "queue_position": None,
        "summary": [{"index": 0, "type": "dense", "output_shape": [8], "params": 24}], "n_params": 42,
        "has_model": True, "init_from": None}]})
    id: str
    status: JobStatus
    spec: dict[str, Any] = Field(description="the normalized spec (every default filled in)")
    created_at: float
    started_at: Optional[float] = None
    finished_at: Optional[float] = None
    epoch: int
    epochs: Optional[int] = Field(description="training.epochs; null = until paused or cancelled (at most max_epochs)")
    progress: Optional[float] = Field(description="epoch / epochs, 0..1; null when epochs is null")
    latest: Optional[dict[str, Any]] = Field(None, description="the latest epoch record")
    best: Optional[dict[str, Any]] = Field(None, description="the best epoch record by the monitored metric")
    outcome: Optional[str] = None
    message: Optional[str] = None
    queue_position: Optional[int] = Field(None, description="1 = next to start; null unless queued")
    summary: Optional[list[dict[str, Any]]] = Field(None, description="one row per layer")
    n_params: Optional[int] = None
    has_model: bool = False
    init_from: Optional[dict[str, Any]] = Field(None, description='{"job_id"} of the job this one continues')
    name: str = Field("", description='readable name: the one given by PATCH, else generated from the spec '
                      '(engine.naming: "spiral · 8-8 tanh · adam 0.03")')
    renamed: bool = Field(False, description="true when the name was given by PATCH /api/jobs/{id}")


class JobList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [{
        "id": "4375443c6a16", "status": "completed", "name": "spiral · 8 tanh · adam 0.01", "epoch": 30, "epochs": 30,
        "progress": 1.0, "best": {"epoch": 29, "test_accuracy": 0.49}, "...": "every JobPublic field"}], "total": 1}]})
    items: list[JobPublic]
    total: int


class HistoryPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"job_id": "4375443c6a16", "epochs": [
        {"epoch": 1, "train_loss": 0.693, "train_accuracy": 0.52, "test_loss": 0.695, "test_accuracy": 0.5,
         "learning_rate": 0.01, "seconds": 0.0014, "examples_per_second": 178000.0}], "next_since": 1}]})
    job_id: str
    epochs: list[dict[str, Any]]
    next_since: Optional[int] = Field(None, description="pass as ?since= for the next page; null: no more epochs")


# -- commands (helper A's block): generated from engine.control.COMMANDS; the route validates with
# engine.control.check_command, so REST and the WebSocket accept and refuse the same values with the same words
def command_model(entry) -> type[BaseModel]:
    """One command's schema: {"cmd": name, **options}, every option required (any of them: `any_of` entries)."""
    fields = {}
    any_of = getattr(entry, "any_of", False)
    for p in entry.options:
        kind, info = param_field(p)
        if any_of:   # the type carries the range; absent = unchanged (check_command wants at least one)
            fields[p.name] = (kind, Field(None, description=info.description))
        else:
            fields[p.name] = (kind, Field(description=info.description))  # the type carries the range; no default
    return create_model(f"{entry.name.title()}Command", __doc__=entry.doc,
                        __config__=ConfigDict(extra="forbid", allow_inf_nan=False),
                        cmd=(Literal[entry.name], ...), **fields)


COMMAND_MODELS = [command_model(entry) for _, entry in COMMANDS.items()]
Command = Annotated[Union[tuple(COMMAND_MODELS)], Field(discriminator="cmd")]
COMMAND_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"oneOf": [m.model_json_schema() for m in COMMAND_MODELS]},
    "examples": {"pause": {"value": {"cmd": "pause"}}, "set": {"value": {"cmd": "set", "learning_rate": 0.003}}}}}}}
# -- end of the commands block


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False,
                              json_schema_extra={"examples": [{"inputs": [[0.5, -1.0], [2.0, 0.1]]}]})
    inputs: list[Any] = Field(min_length=1, description="rows of raw inputs (before features/preprocessing)")


GenerateRequest = params_model("GenerateRequest", generate_options(DEFAULT_LIMITS))


class GeneratePublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "job_id": "4375443c6a16", "epoch": 12, "prompt": "ROMEO:", "text": " what light through yonder...",
        "length": 300, "temperature": 0.8, "seed": 0}]})
    job_id: str
    epoch: Optional[int] = Field(None, description="the job's epoch when the request came (a running job: its "
                                                   "latest checkpoint's model)")
    prompt: str
    text: str = Field(description="the sampled characters, after the prompt")
    length: int
    temperature: float
    seed: int


class PredictPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"outputs": [[0.91, 0.09], [0.12, 0.88]],
                                                               "probabilities": [[0.91, 0.09], [0.12, 0.88]],
                                                               "labels": [0, 1], "class_names": None}]})
    outputs: list[Any]
    probabilities: Optional[list[list[float]]] = None
    labels: Optional[list[int]] = None
    class_names: Optional[list[str]] = None


class DigitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [
        {"strokes": [[[10, 10], [10, 60]]]}, {"image": "data:image/png;base64,iVBORw0KGgo..."}]})
    image: Optional[str] = Field(None, description="a PNG data URL from a canvas")
    strokes: Optional[list[Any]] = Field(None, description="list of strokes, each a list of [x, y] points")
    job_id: Optional[str] = Field(None, description="a finished or running MNIST job; default: the shipped model")


class DigitPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "label": 1, "model": "default",
        "probabilities": [0.001, 0.981, 0.004, 0.002, 0.003, 0.001, 0.001, 0.004, 0.002, 0.001],
        "input": [[0.0, "... 28 values per row, 28 rows, 0..1"]]}]})
    label: int
    probabilities: list[float] = Field(description="10 class probabilities")
    input: list[list[float]] = Field(description="the 28x28 image the model saw, 0..1")
    model: str = Field(description="'default' or the job id")


class DigitSamplePublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"index": 0, "label": 7,
                                                               "image": "AAAA...(784 bytes, base64)"}]})
    index: int
    label: int
    image: str = Field(description="base64 of 784 uint8 pixels, row-major, ink = 255")


class PreviewRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"dataset": {"name": "spiral", "n_samples": 200, "noise": 0.1, "seed": 1}}]})
    dataset: DatasetSpec


class PreviewPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "xor", "task": "classification", "n_classes": 2, "class_names": None, "domain": [[-6.0, 6.0], [-6.0, 6.0]],
        "points_train": [[2.1, 3.4], [-1.7, 4.0]], "labels_train": [1.0, 0.0],
        "points_test": [[-3.2, -2.5]], "labels_test": [1.0]}]})
    name: str
    task: str
    n_classes: Optional[int]
    class_names: Optional[list[str]]
    domain: list[list[float]]
    points_train: list[list[float]]
    labels_train: list[float]
    points_test: list[list[float]]
    labels_test: list[float]


class WeightsPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "job_id": "4375443c6a16", "n_params": 9, "shapes": {"0.W": [2, 2], "0.b": [2], "1.W": [2, 1], "1.b": [1]},
        "weights": {"0.W": [[0.84, -1.2], [0.31, 0.77]], "0.b": [0.05, -0.1], "1.W": [[1.5], [-0.9]], "1.b": [0.2]}}]})
    job_id: str
    n_params: int
    weights: dict[str, Any] = Field(description='{"0.W": nested lists, ...}')
    shapes: dict[str, list[int]]


class RayNodePublic(BaseModel):
    node_id: str
    alive: bool
    address: str
    resources: dict[str, float]  # Ray's totals: CPU, memory, object_store_memory, custom ones


class HealthPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"status": "ok", "version": "0.1.0", "executor": "local"},
        {"status": "ok", "version": "0.1.0", "executor": "ray", "ray_address": "127.0.0.1:6379", "nodes": [
            {"node_id": "5f1c...", "alive": True, "address": "127.0.0.1",
             "resources": {"CPU": 2.0, "memory": 8e9, "object_store_memory": 2e8}}]}]})
    status: Literal["ok"]
    version: str
    executor: Literal["local", "thread", "ray"]  # where jobs train (Settings.executor)
    ray_address: str | None = None               # Ray only: the cluster the server joined
    nodes: list[RayNodePublic] | None = None     # Ray only: every node the cluster knows


class CatalogPublic(BaseModel):
    model_config = ConfigDict(extra="allow")
    layers: dict[str, Any]
    activations: dict[str, Any]
    losses: dict[str, Any]
    optimizers: dict[str, Any]
    datasets: dict[str, Any]
    limits: dict[str, Any]
    job_states: list[str]
    auth_required: bool = Field(description="mutating requests need Authorization: Bearer <NNPLAY_API_TOKEN>")
    digit_model_available: bool = Field(description="the shipped digit model is installed (POST /api/digits/predict without job_id works)")


class ErrorPublic(BaseModel):
    detail: Any
    message: str


class MisreadPublic(BaseModel):
    index: int
    label: int
    predicted: int
    probability: float
    image: Optional[str] = Field(None, description="base64 of 784 uint8 pixels for image datasets, else null")


class EvaluationPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "n": 50, "accuracy": 0.9, "confusion": [[23, 2], [3, 22]], "class_names": None,
        "misread": [{"index": 17, "label": 0, "predicted": 1, "probability": 0.81, "image": None}]}]})
    n: int
    accuracy: float
    confusion: list[list[int]] = Field(description="rows: true class, columns: predicted class")
    class_names: Optional[list[str]] = None
    misread: list[MisreadPublic]


# ---- POST /api/models/summary (helper B "ui", issue 8): the builder's shapes, counts, warnings, errors
class ModelSummaryRequest(BaseModel):
    """Any model dict, even a broken one: its problems come back listed (200), not as a 422."""
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [{
        "model": {"layers": [{"type": "dense", "units": 8, "activation": "tanh"},
                             {"type": "dense", "units": 2, "activation": "softmax"}],
                  "loss": "categorical_crossentropy"},
        "dataset": {"name": "circle", "features": ["x1", "x2"]}}]})
    model: dict[str, Any] = Field(description="a model spec (docs/DESIGN.md); checked by the engine")
    dataset: Optional[dict[str, Any]] = Field(None, description="the dataset it is for: gives input shape and task")

    @model_validator(mode="after")
    def no_server_side_files(self) -> "ModelSummaryRequest":
        for key in SERVER_ONLY_DATASET_KEYS:
            if key in (self.dataset or {}):
                raise ValueError(f"dataset.{key} cannot be set over the API")
        return self


class ProblemPublic(BaseModel):
    path: str
    message: str


class SummaryRowPublic(BaseModel):
    index: int
    type: str
    text: str
    output_shape: Optional[list[int]] = Field(description="per-sample output shape; null after a layer that fails")
    params: Optional[int]
    weights: Optional[Literal["ok", "stale"]] = Field(description="explicit weights given: do they fit the layer")
    k_range: Optional[list[int]] = Field(None, description="knn only: [smallest, largest] k the dataset's training "
                                                           "rows allow (engine/knn.py k_range)")


class OutputChoice(BaseModel):
    activation: str
    loss: str
    units: Optional[int]


class OutputSuggestion(BaseModel):
    layer: dict[str, Any] = Field(description="the suggested output layer for the dataset's task")
    loss: str
    fits: bool = Field(description="the model's own output activation, loss and units are one of `choices`")
    choices: list[OutputChoice] = Field(description="every output head that trains on this task, suggestion first")


class ModelSummaryPublic(BaseModel):
    layers: list[SummaryRowPublic]
    n_params: int
    task: Optional[str]
    n_classes: Optional[int]
    n_targets: Optional[int]
    input_shape: Optional[list[int]]
    features: Optional[list[str]] = Field(description="input features of 2-D point data (plotted); null for other data")
    output: Optional[OutputSuggestion]
    warnings: list[ProblemPublic]
    errors: list[ProblemPublic] = Field(description="what POST /api/jobs would refuse, with field paths")


class AutoencoderOptionsPublic(BaseModel):
    options: list[dict] = Field(description="the options of POST /api/models/autoencoder: name, type, default, "
                                            "min, max, choices, help (engine/autoencoder_layouts.py)")
    parts: dict = Field(description="the layer kinds an encoder or decoder can have, each with its doc")


class AutoencoderLayoutPublic(ModelSummaryPublic):
    spec: Optional[dict] = Field(description="the job spec to POST to /api/jobs; null when the options make none "
                                             "(then `errors` names the options)")


# ==== lessons: backprop (issue 10, /lessons/backprop; the lessons' other schemas go in their own block) ====
from engine.lessons.backprop import NETWORK_PRESETS as _NETWORK_PRESETS  # noqa: E402
from engine.lessons.expression import EXPRESSION_PRESETS as _EXPRESSION_PRESETS  # noqa: E402
from engine.optimizers import LR as _LR  # noqa: E402


class ExpressionRequest(BaseModel):
    """An expression and its variables' values; the engine's parser checks both (limits: /api/catalog)."""
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [
        {"expression": p["expression"], "values": p["values"]} for p in _EXPRESSION_PRESETS]})
    expression: str = Field(description="Python syntax: numbers, the variables, + - * / ** @, unary -, and "
                                        "exp log sqrt abs sigmoid tanh relu max(a, b) sum mean")
    values: dict[str, Any] = Field(description="each variable's value: a number, a vector or a matrix")


class ExpressionNodePublic(BaseModel):
    id: int
    op: str = Field(description="'input', 'const' or an operator name (add, mul, pow, exp, matmul, ...)")
    inputs: list[int] = Field(description="ids of the nodes it is computed from")
    value: Any
    grad: Any = Field(description="df/d(this node), the shape of value")
    label: str = Field(description="the subexpression's source text")
    shape: list[int]
    symbol: Optional[str] = None
    rule: Optional[str] = Field(None, description="its local gradient, as the lectures write it")
    power: Optional[float] = None
    local: Optional[list[Any]] = Field(None, description="per input: d(out)/d(input) per element (null: not elementwise)")
    passed: Optional[list[Any]] = Field(None, description="per input: the gradient this node sends it (local x upstream)")


class ExpressionPublic(BaseModel):
    value: Any
    grads: dict[str, Any]
    nodes: list[ExpressionNodePublic] = Field(description="in evaluation order")


class BackpropRequest(BaseModel):
    """A small dense network with explicit weights, a batch and a learning rate: one forward, backward and SGD step."""
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [
        {k: p[k] for k in ("model", "x", "y", "learning_rate")} for p in _NETWORK_PRESETS]})
    model: ModelSpec
    x: list[Any] = Field(description="input rows (N, n_in)")
    y: list[Any] = Field(description="target rows (N, K), or N class labels")
    learning_rate: scalar("float", **_bounds(_LR)) = 0.5
    steps: Optional[scalar("int", ge=1)] = Field(None, description="also return the loss curve over this many steps")


class BackpropLayerPublic(BaseModel):
    index: int
    type: str
    activation: str
    input: list[list[float]] = Field(description="(N, n_in) what the layer received")
    z: list[list[float]] = Field(description="(N, units) pre-activation, the lectures' net")
    a: list[list[float]] = Field(description="(N, units) activation, the lectures' out")
    dL_da: list[list[float]]
    da_dz: Optional[list[list[float]]] = Field(description="the activation's derivative per neuron (null for softmax)")
    dL_dz: list[list[float]] = Field(description="δ")
    dL_dW: list[list[float]]
    dL_db: Optional[list[float]]
    W: list[list[float]] = Field(description="(n_in, units) before the step")
    b: Optional[list[float]]
    W_after: list[list[float]]
    b_after: Optional[list[float]]


class BackpropCurvePublic(BaseModel):
    loss: list[float] = Field(description="after 0, 1, ..., steps SGD steps")
    output: list[list[float]] = Field(description="the first row's outputs after 0, 1, ..., steps steps")


class BackpropPublic(BaseModel):
    loss: float
    layers: list[BackpropLayerPublic]
    dL_dx: list[list[float]]
    curve: Optional[BackpropCurvePublic]


class BackpropPresetsPublic(BaseModel):
    expressions: list[dict[str, Any]]
    networks: list[dict[str, Any]]
    saturated_neuron: dict[str, Any]
    functions: list[str] = Field(description="the functions an expression may call")
# ==== end lessons: backprop ====


# ==== playground: the untrained network (POST /api/models/preview; helper K's block) ====
class ModelPreviewRequest(BaseModel):
    """A job spec as POST /api/jobs takes it (without init_from); nothing is queued or stored."""
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [JOB_EXAMPLE]})
    dataset: DatasetSpec
    model: JobModelSpec             # a k-NN is previewed fitted (its fit only stores the rows)
    training: Optional[TrainingSpec] = None
    stream: Optional[StreamSpec] = None


class ModelPreviewPublic(BaseModel):
    boundary: Optional[dict[str, Any]] = Field(description="the trainer's epoch-0 boundary frame (with neuron maps); "
                                                           "null for data that is not 2-D points")
    weights: dict[str, Any] = Field(description='the starting weights by key ("0.W": (n_in, n_out), "0.b": (n_out,))')
    features: Optional[list[dict[str, Any]]] = Field(
        description="each input feature's map over the plot's domain: {feature, resolution, min, max, data (uint8 "
                    "base64, (r, r), row 0 = top)}")
    scores: Optional[dict[str, float]] = Field(
        None, description='a k-NN\'s accuracies as its job would report them ("train_accuracy", "val_accuracy", '
                          '"test_accuracy": its fit is the whole training); null for a network (untrained)')
# ==== end playground block ====


# ---- PATCH /api/jobs/{id} (helper L, issue 11): rename a run
class JobRename(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Optional[str] = Field(max_length=80, description='the run\'s new name; null or "" restores the generated one',
                                examples=["spiral, the one that worked"])


# ---- GET /api/jobs/{id}/evaluation/cell (helper L, issue 11): the digits behind a confusion cell
class EvaluationCellPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"label": 4, "predicted": 9, "count": 12, "examples": [
        {"index": 1232, "label": 4, "predicted": 9, "probability": 0.97, "image": "AAAA...(784 bytes, base64)"}]}]})
    label: int = Field(description="the true class")
    predicted: int = Field(description="the class the model read")
    count: int = Field(description="test examples in this cell")
    examples: list[MisreadPublic] = Field(description="the most confident readings first")


# ---- GET /api/digits/first-layer (helper L, issue 11): conv filters or dense templates as pictures
class FirstLayerPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"layer": 0, "type": "conv2d", "height": 3, "width": 3,
                                                               "count": 16, "images": ["gIC/QP+AgICA"]}]})
    layer: int = Field(description="index of the first layer with weights")
    type: str = Field(description="conv2d or dense")
    height: int
    width: int
    count: int = Field(description="filters or units in the layer (at most 64 pictures are sent)")
    images: list[str] = Field(description="base64 uint8 (height*width) per picture; 128 = 0")
    classes: Optional[list[str]] = Field(None, description="the layer is the output layer (a linear classifier): "
                                                            "the class each picture is the template of; else null")


# ==== sweeps (issue 13, /api/sweeps; generated from engine/sweeps.py, search_space.py and halving.py) ====
from engine.halving import EARLY_TERMINATION as _EARLY_TERMINATION  # noqa: E402
from engine.search_space import DISTRIBUTIONS as _DISTRIBUTIONS  # noqa: E402
from engine.sweeps import SWEEP_OPTIONS as _SWEEP_OPTIONS  # noqa: E402

SWEEP_EXAMPLE = {
    "base": JOB_EXAMPLE | {"training": {"optimizer": {"name": "adam", "learning_rate": 0.01}, "epochs": 20}},
    "method": "random",
    "parameters": {"training.optimizer.learning_rate": {"distribution": "log_uniform", "min": 1e-4, "max": 1e-1},
                   "training.regularization.l2": {"distribution": "log_uniform", "min": 1e-5, "max": 1},
                   "model.layers.0.units": {"values": [8, 16, 32]}},
    "n_trials": 20, "metric": "test_accuracy", "goal": "maximize", "seed": 0, "max_parallel": 4,
    "early_termination": {"name": "halving", "min_epochs": 5}}


class SweepValues(BaseModel):
    """One of the listed values."""
    model_config = STRICT
    values: list[Union[Annotated[bool, Strict()], Annotated[int, Strict()], Annotated[float, Strict()], str]] = Field(
        min_length=1)


def _sweep_parameter_tag(value: Any) -> str | None:
    if isinstance(value, SweepValues) or (isinstance(value, dict) and "values" in value):
        return "Values"
    return "Range"   # capitalised: the 422 handler drops union-branch labels from the field path


SweepParameter = Annotated[Union[Annotated[union(_DISTRIBUTIONS), Tag("Range")], Annotated[SweepValues, Tag("Values")]],
                           Discriminator(_sweep_parameter_tag)]


class JobSpecBody(BaseModel):
    """A job spec as POST /api/jobs takes it (without init_from): every trial starts from it."""
    model_config = STRICT
    dataset: DatasetSpec
    model: ModelSpec
    training: Optional[TrainingSpec] = None
    stream: Optional[StreamSpec] = None


SweepCreate = params_model(
    "SweepCreate", _SWEEP_OPTIONS,
    config=ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [SWEEP_EXAMPLE]}),
    base=(JobSpecBody, Field(description="the job spec every trial starts from (its epochs: a few per trial)")),
    parameters=(dict[str, SweepParameter], Field(description="a dotted path into the normalized job spec -> "
                                                             "{distribution, min, max} or {values}")),
    early_termination=(Optional[union(_EARLY_TERMINATION)], Field(None, description="stop bad trials early")))
SweepCreate.__doc__ = "A hyperparameter sweep: one job per trial, all checked before any runs."


class SweepBest(BaseModel):
    value: float
    epoch: int


class SweepTrialPublic(BaseModel):
    index: int
    job_id: str = Field(description="the trial's job (GET /api/jobs/{id} once it has started)")
    params: dict[str, Any] = Field(description="{path: value} this trial trains with")
    status: str = Field(description="waiting (in the sweep, not yet a job), then the job's status")
    epoch: int
    epochs: Optional[int]
    best: Optional[SweepBest] = Field(description="the best value of the sweep's metric so far, and its epoch")
    message: Optional[str]
    stopped_early: bool = Field(description="early termination stopped it")


class SweepBestTrial(BaseModel):
    index: int
    job_id: str
    params: dict[str, Any]
    best: SweepBest


class SweepSummaryPublic(BaseModel):
    id: str
    status: Literal["running", "completed", "cancelled"]
    created_at: float
    finished_at: Optional[float]
    message: Optional[str]
    method: str
    n_trials: int
    metric: str
    goal: str
    seed: int
    max_parallel: int


class SweepPublic(SweepSummaryPublic):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "9b2f61c0d4aa", "status": "running", "method": "random", "n_trials": 2, "metric": "test_accuracy",
        "goal": "maximize", "seed": 0, "max_parallel": 1, "created_at": 1796160401.5, "finished_at": None,
        "message": None, "parameters": SWEEP_EXAMPLE["parameters"], "early_termination": None, "base": {"...": "spec"},
        "trials": [{"index": 0, "job_id": "4375443c6a16", "params": {"training.optimizer.learning_rate": 0.02803},
                    "status": "running", "epoch": 7, "epochs": 20, "best": {"value": 0.81, "epoch": 6},
                    "message": None, "stopped_early": False},
                   {"index": 1, "job_id": "a1c93e0f7b21", "params": {"training.optimizer.learning_rate": 0.0001019},
                    "status": "waiting", "epoch": 0, "epochs": None, "best": None, "message": None,
                    "stopped_early": False}],
        "counts": {"running": 1, "waiting": 1},
        "best": {"index": 0, "job_id": "4375443c6a16", "params": {"training.optimizer.learning_rate": 0.02803},
                 "best": {"value": 0.81, "epoch": 6}}}]})
    parameters: dict[str, Any]
    early_termination: Optional[dict[str, Any]]
    base: dict[str, Any] = Field(description="the normalized base job spec")
    trials: list[SweepTrialPublic]
    counts: dict[str, int] = Field(description="trials per status")
    best: Optional[SweepBestTrial] = Field(description="the trial with the best metric so far")


class SweepList(BaseModel):
    items: list[SweepSummaryPublic]
    total: int


class SweepProposal(BaseModel):
    """The next sweep: POST it to /api/sweeps as it is."""
    sweep: dict[str, Any]
# ==== end sweeps ====


# ==== representations (issue 15): codes, decoding, reconstructions ====
class CodesPublic(BaseModel):
    layer: int = Field(description="the layer whose outputs these are (default: the code layer)")
    units: int = Field(description="values per code")
    split: str
    codes: list[list[float]] = Field(description="(N, units) the layer's outputs for the first N examples")
    labels: Optional[list[int]] = Field(None, description="the examples' class labels (coloured by), when known")
    label_names: Optional[list[str]] = None


class DecodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False,
                              json_schema_extra={"examples": [{"codes": [[0.5, -1.0], [2.0, 0.1]]}]})
    codes: list[list[Annotated[float, Strict()]]] = Field(
        min_length=1, max_length=engine.DEFAULT_LIMITS.max_decode_rows,
        description="rows of the code layer's outputs (as many values as it has units)")
    layer: Optional[Annotated[int, Strict(), Field(ge=0)]] = Field(None, description="default: the code layer")


class DecodePublic(BaseModel):
    layer: int
    encoding: Literal["uint8", "numbers"] = Field(description="uint8: 28x28 base64 pictures; numbers: output rows")
    images: Optional[list[str]] = None
    outputs: Optional[list[list[float]]] = None


class ReconstructionsPublic(BaseModel):
    n: int
    encoding: Literal["uint8", "numbers"]
    height: Optional[int] = None
    width: Optional[int] = None
    originals: list[Any] = Field(description="the clean test examples (base64 uint8 pictures or rows)")
    inputs: Optional[list[Any]] = Field(None, description="what the network saw, when input_noise made it noisy")
    reconstructions: list[Any]
    errors: list[float] = Field(description="each example's mean squared error")
    labels: Optional[list[int]] = None
    label_names: Optional[list[str]] = None
