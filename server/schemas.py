"""Pydantic request/response models. Every allowed name and range comes from the engine's registries
and Param lists (built here with create_model), so nothing is listed twice; engine.normalize then
checks the rest (per-layer options, shapes, limits) and its problems become 422s naming the field.
"""
from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

import engine
from engine.augment import AUGMENTATION_OPTIONS
from engine.datasets import DATASETS, FEATURES
from engine.model import DTYPES
from engine.params import Param
from engine.preprocessing import PREPROCESSORS
from engine.regularization import REGULARIZATION_OPTIONS
from engine.spec import EARLY_STOPPING_OPTIONS, STREAM_OPTIONS, TRAINING_OPTIONS

from .jobs.storage import JOB_STATES

STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)
OPEN = ConfigDict(extra="allow", allow_inf_nan=False)  # per-entry options: checked by engine.normalize


def names(registry) -> Any:
    """Literal['a', 'b', ...] of a registry's names."""
    return Literal[tuple(registry.names())]


def param_field(p: Param) -> tuple[Any, Any]:
    """(type, Field) for one engine Param: ranges, choices, defaults and help carried over."""
    bounds = {}
    if p.min is not None:
        bounds["gt" if p.min_exclusive else "ge"] = p.min
    if p.max is not None:
        bounds["le"] = p.max
    kind = {"int": int, "float": float, "bool": bool, "str": str,
            "int_list": list[int], "float_list": list[float]}.get(p.kind)
    if p.kind == "choice":
        kind = Union[Literal[tuple(p.choices)], dict[str, Any]]
        bounds = {}
    elif p.kind.endswith("_list"):
        bounds = {}
    if p.nullable:
        kind = Optional[kind]
    return kind, Field(p.default, description=p.help or None, **bounds)


def params_model(name: str, params: list[Param], config: ConfigDict = STRICT, **extra) -> type[BaseModel]:
    fields = {p.name: param_field(p) for p in params}
    fields.update(extra)
    return create_model(name, __config__=config, **fields)


class NamedOptions(BaseModel):
    """A registry entry given with options, e.g. {"name": "leaky_relu", "alpha": 0.2}."""
    model_config = OPEN
    name: str


ActivationRef = Union[names(engine.ACTIVATIONS), NamedOptions]
InitializerRef = Union[names(engine.INITIALIZERS), NamedOptions]


class LayerSpec(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False,
                              json_schema_extra={"examples": [{"type": "dense", "units": 8, "activation": "tanh"}]})
    type: names(engine.LAYERS) = Field(description="layer type; see /api/catalog `layers` for each one's options")
    activation: Optional[ActivationRef] = None
    kernel_initializer: Optional[InitializerRef] = None
    bias_initializer: Optional[InitializerRef] = None
    weights: Optional[dict[str, Any]] = Field(None, description="explicit starting weights {W, b} (optional)")


class ModelSpec(BaseModel):
    model_config = STRICT
    input_shape: Optional[list[int]] = Field(None, description="per-sample shape; inferred from the dataset if omitted")
    dtype: Literal[DTYPES] = "float32"
    layers: list[LayerSpec] = Field(min_length=1)
    loss: names(engine.LOSSES)


class PreprocessingOptions(BaseModel):
    model_config = OPEN
    name: names(PREPROCESSORS)


SERVER_ONLY_DATASET_KEYS = ("path", "download")


class DatasetSpec(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False,
                              json_schema_extra={"examples": [{"name": "spiral", "n_samples": 500, "noise": 0.1}]})
    name: names(DATASETS) = Field(description="see /api/catalog `datasets` for each one's options")
    features: Optional[list[names(FEATURES)]] = None
    preprocessing: Optional[Union[names(PREPROCESSORS), PreprocessingOptions]] = None

    @model_validator(mode="before")
    @classmethod
    def no_server_side_files(cls, data: Any) -> Any:
        # `path` / `download` make the server read its own folders or fetch from the internet:
        # fine from the CLI, not something any web client may ask for
        for key in SERVER_ONLY_DATASET_KEYS:
            if isinstance(data, dict) and key in data:
                raise ValueError(f"'{key}' cannot be set over the API; the server finds image files in "
                                 "NNPLAY_DATA / MNIST_DIR / its cache")
        return data


class OptimizerSpec(BaseModel):
    model_config = OPEN
    name: names(engine.OPTIMIZERS) = "sgd"


class ScheduleSpec(BaseModel):
    model_config = OPEN
    name: names(engine.SCHEDULES) = "constant"


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


class JobCreate(BaseModel):
    """A job spec (docs/DESIGN.md "Job spec"); unset options take the engine's defaults."""
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [JOB_EXAMPLE]})
    dataset: DatasetSpec
    model: ModelSpec
    training: Optional[TrainingSpec] = None
    stream: Optional[StreamSpec] = None


JobStatus = Literal[JOB_STATES]


class JobPublic(BaseModel):
    id: str
    status: JobStatus
    spec: dict[str, Any] = Field(description="the normalized spec (every default filled in)")
    created_at: float
    started_at: Optional[float] = None
    finished_at: Optional[float] = None
    epoch: int
    epochs: int
    progress: float = Field(description="epoch / epochs, 0..1")
    latest: Optional[dict[str, Any]] = Field(None, description="the latest epoch record")
    best: Optional[dict[str, Any]] = Field(None, description="the best epoch record by the monitored metric")
    outcome: Optional[str] = None
    message: Optional[str] = None
    queue_position: Optional[int] = Field(None, description="1 = next to start; null unless queued")
    summary: Optional[list[dict[str, Any]]] = Field(None, description="one row per layer")
    n_params: Optional[int] = None
    has_model: bool = False


class JobList(BaseModel):
    items: list[JobPublic]
    total: int


class HistoryPublic(BaseModel):
    job_id: str
    epochs: list[dict[str, Any]]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False,
                              json_schema_extra={"examples": [{"cmd": "pause"}, {"cmd": "set", "learning_rate": 0.003}]})
    cmd: Literal["pause", "resume", "step", "cancel", "set"]
    learning_rate: Optional[float] = Field(None, gt=0, le=10, description="for cmd=set")


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False,
                              json_schema_extra={"examples": [{"inputs": [[0.5, -1.0], [2.0, 0.1]]}]})
    inputs: list[Any] = Field(min_length=1, description="rows of raw inputs (before features/preprocessing)")


class PredictPublic(BaseModel):
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
    label: int
    probabilities: list[float] = Field(description="10 class probabilities")
    input: list[list[float]] = Field(description="the 28x28 image the model saw, 0..1")
    model: str = Field(description="'default' or the job id")


class WeightsPublic(BaseModel):
    job_id: str
    n_params: int
    weights: dict[str, Any] = Field(description='{"0.W": nested lists, ...}')
    shapes: dict[str, list[int]]


class HealthPublic(BaseModel):
    status: Literal["ok"]
    version: str


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
    output: Optional[OutputSuggestion]
    warnings: list[ProblemPublic]
    errors: list[ProblemPublic] = Field(description="what POST /api/jobs would refuse, with field paths")
