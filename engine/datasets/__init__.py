"""Datasets by name: `load_dataset(spec) -> Dataset`. Importing a module registers its datasets."""
from __future__ import annotations

from ..errors import SpecError
# registration, in the order the UI lists them: 2-D sets, gates, inline, images, sequences
from . import toy2d  # noqa: F401, I001
from . import gates  # noqa: F401
from . import inline  # noqa: F401
from . import mnist  # noqa: F401
from . import sequences  # noqa: F401
from .base import DATASETS, MAX_SAMPLES, Dataset
from .features import DEFAULT_FEATURES, FEATURES, apply_features
from .csvtext import parse_csv
from .target import apply_target, normalize_target

def load_dataset(spec: dict) -> Dataset:
    """Build the dataset a job spec's "dataset" part describes; SpecError names the bad field."""
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict):
        raise SpecError("must be an object like {\"name\": \"spiral\"}", "dataset")
    entry, options = DATASETS.resolve(spec, "dataset")
    normalize_target(spec)   # raises SpecError for a bad target / input_noise
    return apply_target(entry(options, spec, spec.get("features")), spec)


__all__ = ["DATASETS", "Dataset", "load_dataset", "FEATURES", "apply_features", "parse_csv",
           "DEFAULT_FEATURES", "MAX_SAMPLES"]
