"""Weight penalties (L1, L2: kernels only, never biases) and the max-norm constraint."""
from __future__ import annotations

import numpy as np

from .params import Param

MAX_PENALTY = 1e5   # the lecture's random search draws reg from 10^U(-5, 5)

REGULARIZATION_OPTIONS = [
    Param("l1", "float", 0.0, 0, MAX_PENALTY, help="adds l1 · Σ|W| to the loss (kernels only); gradient l1 · sign(W)"),
    Param("l2", "float", 0.0, 0, MAX_PENALTY, help="adds l2 · Σ W² to the loss (kernels only); gradient 2 · l2 · W"),
    Param("max_norm", "float", None, 0, 1000, nullable=True, min_exclusive=True,
          help="caps the norm of each unit's incoming weights after every step"),
]


def is_kernel(key: str) -> bool:
    return key.endswith(".W")


def penalty(params: dict, l1: float, l2: float) -> float:
    """The regularization term added to the loss."""
    if not (l1 or l2):
        return 0.0
    total = 0.0
    for key, w in params.items():
        if is_kernel(key):
            total += l1 * float(np.abs(w).sum()) + l2 * float((w * w).sum())
    return total


def add_penalty_grads(params: dict, grads: dict, l1: float, l2: float) -> None:
    """grads[W] += l1 sign(W) + 2 l2 W, in place (grads are fresh arrays from backward)."""
    if not (l1 or l2):
        return
    for key, w in params.items():
        if is_kernel(key):
            g = grads[key]
            if l1:
                g += w.dtype.type(l1) * np.sign(w)
            if l2:
                g += w.dtype.type(2 * l2) * w


def flat_penalty(kernels: np.ndarray, l1: float, l2: float) -> float:
    """The same term for every kernel at once: `kernels` is the (n,) kernel part of a flat buffer."""
    total = 0.0
    if l1:
        total += l1 * float(np.abs(kernels).sum())
    if l2:
        total += l2 * float(np.dot(kernels, kernels))
    return total


def add_flat_penalty_grads(kernels: np.ndarray, grads: np.ndarray, l1: float, l2: float) -> None:
    """grads += l1 sign(kernels) + 2 l2 kernels, in place, on the flat kernel slices."""
    if l1:
        grads += kernels.dtype.type(l1) * np.sign(kernels)
    if l2:
        grads += kernels.dtype.type(2 * l2) * kernels


def apply_max_norm(params: dict, max_norm: float | None) -> None:
    """Scale each unit's incoming weight vector down to norm <= max_norm, in place.

    dense/maxout W (n_in, n_out): columns; conv W (F, C, kh, kw): one vector per filter.
    """
    if not max_norm:
        return
    for key, w in params.items():
        if not is_kernel(key):
            continue
        axes = (0,) if w.ndim == 2 else tuple(range(1, w.ndim))
        norms = np.sqrt((w * w).sum(axis=axes, keepdims=True))
        w *= np.minimum(1, max_norm / np.maximum(norms, 1e-12)).astype(w.dtype)
