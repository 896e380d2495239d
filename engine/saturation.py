"""What an activation's outputs look like from outside: saturated and dead fractions, fixed output ranges.

One home for the rules the initialization lesson and the playground's `histograms` frames both report:
`saturated` is the fraction with |a| > 0.99 for tanh, a < 0.01 or a > 0.99 for sigmoid (null for others);
`dead` the fraction exactly zero (ReLU's dead units; any activation).
"""
from __future__ import annotations

import numpy as np

SATURATED = {"tanh": lambda a: np.abs(a) > 0.99,
             "sigmoid": lambda a: (a < 0.01) | (a > 0.99)}
# bounded outputs get fixed histogram edges over their whole range, so every frame and layer share one axis
OUTPUT_RANGE = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0)}


def activation_name(layer) -> str:
    """The activation a layer applies last ("linear" for none)."""
    return getattr(getattr(layer, "activation", None), "name", "linear")


def saturation(a: np.ndarray, activation: str) -> dict:
    """{"saturated": fraction | None, "dead": fraction} of an output array of any shape."""
    rule = SATURATED.get(activation)
    return {"saturated": float(rule(a).mean()) if rule else None, "dead": float(np.mean(a == 0))}


def uniform_counts(a: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin of equal-width `edges`, values beyond them in the end bins (np.histogram sorts: ~10x slower)."""
    bins = len(edges) - 1
    idx = ((a.ravel() - edges[0]) * (bins / (edges[-1] - edges[0]))).astype(np.int64)   # (a.size,)
    return np.bincount(np.clip(idx, 0, bins - 1), minlength=bins)
