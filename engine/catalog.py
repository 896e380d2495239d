"""catalog(): every name and option the UI may offer, generated from the registries."""
from __future__ import annotations

from .activations import ACTIVATIONS
from .initializers import INITIALIZERS
from .layers import LAYERS
from .losses import LOSSES
from .optimizers import OPTIMIZERS
from .regularization import REGULARIZATION_OPTIONS
from .schedules import SCHEDULES
from .spec import DEFAULT_LIMITS, EARLY_STOPPING_OPTIONS, STREAM_OPTIONS, TRAINING_OPTIONS, Limits

OUTCOMES = ("completed", "stopped", "early_stopped", "diverged")


def catalog(limits: Limits = DEFAULT_LIMITS) -> dict:
    from .control import COMMANDS
    from .augment import AUGMENTATION_OPTIONS
    from .datasets import DATASETS, DEFAULT_FEATURES, FEATURES
    from .preprocessing import PREPROCESSORS
    from .presets import PRESETS, SEQUENCE_PRESETS
    from .sweeps import sweep_catalog
    from .datasets.target import TARGET_OPTIONS
    from .knn import KNN_OPTIONS
    from .layer_flags import LAYER_FLAGS
    return {
        "layers": LAYERS.describe(),
        "activations": ACTIVATIONS.describe("zero_gradient"),
        "losses": LOSSES.describe("fused_with", "accepts", "formula"),
        "initializers": INITIALIZERS.describe(),
        "optimizers": OPTIMIZERS.describe(),
        "schedules": SCHEDULES.describe(),
        "datasets": DATASETS.describe("kind", "task"),
        "features": FEATURES.describe(),
        "default_features": list(DEFAULT_FEATURES),
        # a Param's `choices_from` (a registry family) -> the catalog key listing that family's entries
        "families": {"activation": "activations", "initializer": "initializers", "loss": "losses",
                     "optimizer": "optimizers", "schedule": "schedules", "dataset": "datasets",
                     "feature": "features", "preprocessing": "preprocessing", "layer": "layers"},
        "sequence_presets": SEQUENCE_PRESETS,         # the /sequences page's gallery (recurrent networks)
        "presets": PRESETS,                            # the playground's gallery: specs the engine validates   # what a 2-D set uses when the spec names none
        "preprocessing": PREPROCESSORS.describe(),
        "training": [p.to_json() for p in TRAINING_OPTIONS],
        "regularization": [p.to_json() for p in REGULARIZATION_OPTIONS],
        "early_stopping": [p.to_json() for p in EARLY_STOPPING_OPTIONS],
        "augmentation": [p.to_json() for p in AUGMENTATION_OPTIONS],
        "stream": [p.to_json() for p in STREAM_OPTIONS],
        "commands": COMMANDS.describe(),
        "outcomes": list(OUTCOMES),
        "sweeps": sweep_catalog(),                     # /sweeps: options, distributions, suggested ranges
        "limits": limits.to_json(),
        # representations (issue 15): keys any dataset / any layer takes, and the k-NN model's options
        "dataset_target": [p.to_json() for p in TARGET_OPTIONS],
        "layer_flags": [p.to_json() for p in LAYER_FLAGS],
        "knn": [p.to_json() for p in KNN_OPTIONS],
    }
