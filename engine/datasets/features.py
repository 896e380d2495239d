"""Input features for 2-D sets (the playground's feature column): the design matrix built from (x1, x2)."""
from __future__ import annotations

import numpy as np

from ..errors import SpecError
from ..registry import Registry

FEATURES = Registry("feature")
DEFAULT_FEATURES = ["x1", "x2"]


@FEATURES.register("x1", doc="the first coordinate")
def _x1(x1, x2):
    return x1


@FEATURES.register("x2", doc="the second coordinate")
def _x2(x1, x2):
    return x2


@FEATURES.register("x1^2", doc="x1 squared")
def _x1_sq(x1, x2):
    return x1 * x1


@FEATURES.register("x2^2", doc="x2 squared")
def _x2_sq(x1, x2):
    return x2 * x2


@FEATURES.register("x1*x2", doc="product of the coordinates")
def _x1_x2(x1, x2):
    return x1 * x2


@FEATURES.register("sin(x1)", doc="sine of x1")
def _sin_x1(x1, x2):
    return np.sin(x1)


@FEATURES.register("sin(x2)", doc="sine of x2")
def _sin_x2(x1, x2):
    return np.sin(x2)


def check_features(names: object, path: str = "dataset.features") -> list[str]:
    """Validate a feature list (None -> the default ["x1", "x2"]); unknown names list the valid ones."""
    if names is None:
        return list(DEFAULT_FEATURES)
    if not isinstance(names, (list, tuple)) or not names:
        raise SpecError(f"must be a non-empty list of feature names ({', '.join(FEATURES.names())})", path)
    for i, name in enumerate(names):
        FEATURES.get(name, f"{path}.{i}")
    if len(set(names)) != len(names):
        raise SpecError("lists a feature twice", path)
    return list(names)


def apply_features(points: np.ndarray, names: list[str] | None = None) -> np.ndarray:
    """(N, 2) points -> (N, F) float32 design matrix, one column per feature name, in order."""
    names = check_features(names)
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2:
        raise SpecError(f"features need (N, 2) points, got shape {list(p.shape)}", "dataset.features")
    x1, x2 = p[:, 0], p[:, 1]
    cols = [FEATURES.get(name)(x1, x2) for name in names]
    return np.stack(cols, axis=1).astype(np.float32)  # (N, F)
