"""catalog(): every name and option the UI may offer, generated from the registries."""
from __future__ import annotations

from .activations import ACTIVATIONS
from .initializers import INITIALIZERS
from .layers import LAYERS
from .losses import LOSSES
from .optimizers import OPTIMIZERS
from .params import describe
from .regularization import REGULARIZATION_OPTIONS
from .schedules import SCHEDULES
from .spec import DEFAULT_LIMITS, EARLY_STOPPING_OPTIONS, STREAM_OPTIONS, TRAINING_OPTIONS, Limits

OUTCOMES = ("completed", "stopped", "early_stopped", "diverged")


def _family(registry) -> dict:
    return {name: describe(entry) for name, entry in registry.items()}


def catalog(limits: Limits = DEFAULT_LIMITS) -> dict:
    from .augment import AUGMENTATION_OPTIONS
    from .datasets import DATASETS, FEATURES
    from .preprocessing import PREPROCESSORS
    datasets = {name: {**describe(e), "kind": e.kind, "task": e.task} for name, e in DATASETS.items()}
    return {
        "layers": _family(LAYERS),
        "activations": {name: {**describe(e), "zero_gradient": e.zero_gradient} for name, e in ACTIVATIONS.items()},
        "losses": {name: {**describe(e), "fused_with": e.fused_with, "accepts": e.accepts, "formula": e.formula}
                   for name, e in LOSSES.items()},
        "initializers": _family(INITIALIZERS),
        "optimizers": _family(OPTIMIZERS),
        "schedules": _family(SCHEDULES),
        "datasets": datasets,
        "features": _family(FEATURES),
        "preprocessing": _family(PREPROCESSORS),
        "training": [p.to_json() for p in TRAINING_OPTIONS],
        "regularization": [p.to_json() for p in REGULARIZATION_OPTIONS],
        "early_stopping": [p.to_json() for p in EARLY_STOPPING_OPTIONS],
        "augmentation": [p.to_json() for p in AUGMENTATION_OPTIONS],
        "stream": [p.to_json() for p in STREAM_OPTIONS],
        "outcomes": list(OUTCOMES),
        "limits": limits.to_json(),
    }
