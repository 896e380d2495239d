"""Numerical gradient checks (central differences, float64) for layers and activations.

A test utility: loops over elements are fine here. Layers should be built with dtype float64.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

TINY = 1e-300


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a| + |b|): 0 when both are exactly zero."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a) + np.abs(b))), TINY))


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d f / d x by central differences. `x` (float64) is perturbed in place and restored."""
    grad = np.zeros(x.shape, dtype=np.float64)
    flat = x.reshape(-1)  # a view: perturbing flat perturbs x
    if not np.shares_memory(flat, x):
        raise ValueError("numerical_gradient needs a contiguous array it can perturb in place")
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        f_plus = f(x)
        flat[i] = old - eps
        f_minus = f(x)
        flat[i] = old
        grad.reshape(-1)[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def _reseed(layer, seed: int) -> None:
    # stochastic layers (dropout) draw from layer.rng: the same seed before every forward -> the same mask
    if hasattr(layer, "rng"):
        layer.rng = np.random.default_rng(seed)


def check_layer_gradients(layer, x: np.ndarray, seed: int = 0, training: bool = True,
                          eps: float = 1e-6) -> dict[str, float]:
    """Compare backward() with central differences of loss = sum(forward(x) * g), g random.

    Returns {"input": err, "W": err, ...} with one relative error for the input and each param.
    """
    x = np.array(x, dtype=np.float64)
    rng = np.random.default_rng(seed)

    def forward(inp):
        _reseed(layer, seed)
        return layer.forward(inp, training=training)

    g = rng.standard_normal(forward(x).shape)

    def loss(inp):
        return float(np.sum(forward(inp) * g))

    forward(x)
    dx = np.array(layer.backward(g), dtype=np.float64)
    analytic = {k: np.array(v, dtype=np.float64) for k, v in layer.grads.items()}
    errors = {"input": relative_error(dx, numerical_gradient(loss, x, eps))}
    for key, param in layer.params.items():
        numeric = numerical_gradient(lambda _p: loss(x), param, eps)
        errors[key] = relative_error(analytic[key], numeric)
    return errors
