"""Losses: value and gradient w.r.t. the model output, with fused forms for softmax/sigmoid outputs.

`targets(y, out)` turns labels into the array the loss compares with `out`:
integer labels (N,) become one-hot (N, K) for K > 1 outputs, or (N, 1) for one output.
"""
from __future__ import annotations

import numpy as np

from .registry import Registry

LOSSES = Registry("loss")
EPS = 1e-7  # probability clipping, as Keras


def _one_hot(labels: np.ndarray, k: int, dtype) -> np.ndarray:
    t = np.zeros((labels.shape[0], k), dtype=dtype)
    t[np.arange(labels.shape[0]), labels.astype(np.int64)] = 1
    return t


class Loss:
    doc = ""
    options: list = []
    fused_with: str | None = None  # final activation whose gradient combines with this loss
    threshold = 0.5                # a single output above this reads as class 1

    def targets(self, y: np.ndarray, out: np.ndarray) -> np.ndarray:
        k = out.shape[-1]
        if y.ndim == 1 and k > 1:
            return _one_hot(y, k, out.dtype)
        return y.reshape(out.shape).astype(out.dtype, copy=False)

    def value(self, out, t) -> float:
        raise NotImplementedError

    def grad(self, out, t) -> np.ndarray:
        raise NotImplementedError

    def fused(self, z, out, t) -> tuple[float, np.ndarray]:
        """(loss, dL/dz) computed from the pre-activation z of the final `fused_with` activation."""
        raise NotImplementedError


@LOSSES.register("mean_squared_error")
class MeanSquaredError(Loss):
    doc = "mean over samples and outputs of (out - target)^2"

    def value(self, out, t):
        return float(np.mean((out - t) ** 2))

    def grad(self, out, t):
        return (2.0 / out.size) * (out - t)


@LOSSES.register("binary_crossentropy")
class BinaryCrossentropy(Loss):
    doc = "-(t log p + (1-t) log(1-p)), mean over samples and outputs; for sigmoid outputs"
    fused_with = "sigmoid"

    def value(self, out, t):
        p = np.clip(out, EPS, 1 - EPS)
        return float(-np.mean(t * np.log(p) + (1 - t) * np.log(1 - p)))

    def grad(self, out, t):
        p = np.clip(out, EPS, 1 - EPS)
        return (p - t) / (p * (1 - p)) / out.size

    def fused(self, z, out, t):
        # log(1 + exp(-|z|)) form: stable for any z
        loss = np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))))
        return float(loss), (out - t) / out.size


@LOSSES.register("categorical_crossentropy")
class CategoricalCrossentropy(Loss):
    doc = "-sum_k t_k log p_k, mean over samples; integer labels or one-hot; fused with softmax"
    fused_with = "softmax"

    def value(self, out, t):
        p = np.clip(out, EPS, 1.0)
        return float(-np.sum(t * np.log(p)) / out.shape[0])

    def grad(self, out, t):
        return -t / np.clip(out, EPS, 1.0) / out.shape[0]

    def fused(self, z, out, t):
        # log-softmax via log-sum-exp: finite even for scores like 1e4
        zmax = z.max(axis=-1, keepdims=True)
        log_p = z - zmax - np.log(np.exp(z - zmax).sum(axis=-1, keepdims=True))
        return float(-np.sum(t * log_p) / z.shape[0]), (out - t) / z.shape[0]


@LOSSES.register("hinge")
class Hinge(Loss):
    doc = "multiclass SVM margin loss sum_{j != y} max(0, s_j - s_y + 1), mean over samples; one output: max(0, 1 - t s), t in {-1, 1}"
    threshold = 0.0

    def targets(self, y, out):
        if out.shape[-1] == 1:  # binary: labels {0, 1} -> {-1, +1}
            return (2 * y.reshape(out.shape) - 1).astype(out.dtype)
        return super().targets(y, out)

    def _margins(self, out, t):
        if out.shape[-1] == 1:
            return np.maximum(0, 1 - t * out)
        correct = (out * t).sum(axis=-1, keepdims=True)   # (N, 1) score of the true class
        return np.maximum(0, out - correct + 1) * (1 - t)  # (N, K), zero at the true class

    def value(self, out, t):
        return float(self._margins(out, t).sum() / out.shape[0])

    def grad(self, out, t):
        n = out.shape[0]
        if out.shape[-1] == 1:
            return -t * (1 - t * out > 0) / n
        active = (self._margins(out, t) > 0).astype(out.dtype)            # (N, K)
        return (active - t * active.sum(axis=-1, keepdims=True)) / n


@LOSSES.register("perceptron")
class Perceptron(Loss):
    doc = ("Rosenblatt's criterion max(0, -t s), t in {-1, 1}, one linear output: with sgd and batch size 1 "
           "each misclassified point moves the weights by lr * t * x, the perceptron learning rule")
    threshold = 0.0

    def targets(self, y, out):
        return (2 * y.reshape(out.shape) - 1).astype(out.dtype)

    def value(self, out, t):
        return float(np.maximum(0, -t * out).sum() / out.shape[0])

    def grad(self, out, t):
        # a point on the boundary (s = 0) counts as a mistake, as in Rosenblatt's rule: zero weights still learn
        return -t * (t * out <= 0) / out.shape[0]


def make_loss(name, path: str = "model.loss") -> Loss:
    loss = LOSSES.get(name, path)()
    loss.name = name
    return loss
