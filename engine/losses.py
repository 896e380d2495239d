"""Losses: value and gradient w.r.t. the model output, with fused forms for softmax/sigmoid outputs.

`targets(y, out)` turns labels into the array the loss compares with `out`:
integer labels (N,) become one-hot (N, K) for K > 1 outputs, or (N, 1) for one output.
"""
from __future__ import annotations

import numpy as np

from .params import Param
from .registry import Registry

LOSSES = Registry("loss")
EPS = 1e-7  # probability clipping, as Keras


def _one_hot(labels: np.ndarray, k: int, dtype) -> np.ndarray:
    t = np.zeros((labels.shape[0], k), dtype=dtype)
    t[np.arange(labels.shape[0]), labels.astype(np.int64)] = 1
    return t


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))          # = 1 / (1 + exp(-z)), without overflow warnings


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    zmax = z.max(axis=-1, keepdims=True)            # log-sum-exp: finite even for scores like 1e4
    return z - zmax - np.log(np.exp(z - zmax).sum(axis=-1, keepdims=True))


class Loss:
    """A loss, and the one place that says what a model's outputs mean.

    Built for a model's final activation (`make_loss(spec, final_activation=...)`): a cross-entropy
    after a `linear` output reads the outputs as logits (the softmax / sigmoid is fused into the
    loss, as PyTorch's CrossEntropyLoss / BCEWithLogitsLoss); after its own activation it reads
    them as probabilities. `probabilities(out)` and `labels(out)` are what /predict, metrics, the
    decision boundary and the evaluation all use.
    """
    formula = ""                   # the formula as the engine computes it (shown by the UI)
    fused_with: str | None = None  # final activation whose gradient combines with this loss
    accepts: tuple | None = None   # final activations this loss can train (None: any)
    # output heads the builder offers: (final activation, units rule); "classes" = one unit per class,
    # "binary" = one unit (two classes only), "targets" = one unit per regression target
    heads: tuple = ()
    task = "classification"        # the task those heads are for
    # heads for rebuilding the inputs (dataset target "input"): one unit per input value
    reconstruction_heads: tuple = ()
    threshold = 0.5                # a single output above this reads as class 1
    classification_only = False

    def __init__(self, final_activation: str | None = None, **config):
        self.config = config
        self.final_activation = final_activation
        # a cross-entropy after a linear layer: the outputs are logits
        self.from_logits = self.fused_with is not None and final_activation == "linear"
        if self.from_logits:
            self.threshold = 0.0

    # -- targets, value, gradient ------------------------------------------------------------
    def targets(self, y: np.ndarray, out: np.ndarray) -> np.ndarray:
        k = out.shape[-1]
        if y.ndim == 1 and k > 1:
            return _one_hot(y, k, out.dtype)
        return y.reshape(out.shape).astype(out.dtype, copy=False)

    def value(self, out, t) -> float:
        if self.from_logits:
            return self.fused(out, self.link(out), t)[0]
        return self.prob_value(out, t)

    def grad(self, out, t) -> np.ndarray:
        if self.from_logits:
            return self.fused(out, self.link(out), t)[1]
        return self.prob_grad(out, t)

    def value_and_grad(self, out, t) -> tuple[float, np.ndarray]:
        if self.from_logits:
            return self.fused(out, self.link(out), t)
        return self.prob_value(out, t), self.prob_grad(out, t)

    def prob_value(self, out, t) -> float:
        raise NotImplementedError

    def prob_grad(self, out, t) -> np.ndarray:
        raise NotImplementedError

    def fused(self, z, out, t) -> tuple[float, np.ndarray]:
        """(loss, dL/dz) computed from the pre-activation z of the final `fused_with` activation."""
        raise NotImplementedError

    def link(self, z: np.ndarray) -> np.ndarray:
        """The fused activation applied to logits (softmax / sigmoid)."""
        raise NotImplementedError

    def activation_problem(self, final_activation: str, units: int) -> str | None:
        """Why this loss cannot train a model ending in `final_activation` with `units` outputs, or None."""
        if self.accepts is not None and final_activation not in self.accepts:
            return (f"{self.name} needs a {' or '.join(self.accepts)} output, the last activation is "
                    f"{final_activation}")
        return None

    # -- what the outputs mean (classification) ----------------------------------------------
    def positive_probability(self, out1: np.ndarray) -> np.ndarray:
        """(N,) probability of class 1 from a single output column."""
        return np.clip(out1, 0.0, 1.0)

    def probabilities(self, out: np.ndarray) -> np.ndarray:
        """(N, K) outputs -> (N, max(K, 2)) class probabilities (one output: columns [class 0, class 1])."""
        out = np.asarray(out, dtype=np.float64)
        if out.shape[-1] == 1:
            p = self.positive_probability(out[:, 0])
            return np.column_stack([1 - p, p])
        if not self.from_logits and (self.final_activation or self.fused_with) == "softmax":
            return out                             # already a softmax
        return _softmax(out)                       # logits or scores (hinge, linear) shown as softmax

    def labels(self, out: np.ndarray) -> np.ndarray:
        """(N, K) outputs -> (N,) int64 class labels; NaN outputs never win."""
        out = np.asarray(out)
        if out.shape[-1] == 1:
            return (out[:, 0] > self.threshold).astype(np.int64)
        return np.nan_to_num(out, nan=-np.inf).argmax(axis=-1)


@LOSSES.register("mean_squared_error",
                 doc="Keras' mean squared error: mean over samples and outputs of (out - target)^2")
class MeanSquaredError(Loss):
    heads, task = (("linear", "targets"),), "regression"
    reconstruction_heads = (("linear", "targets"), ("sigmoid", "targets"))
    formula = "L = 1/(N·K) · Σₙ Σₖ (yₙₖ − tₙₖ)²;  ∂L/∂yₙₖ = 2 (yₙₖ − tₙₖ) / (N·K)"

    def prob_value(self, out, t):
        d = (out - t).ravel()
        return float(d @ d) / d.size                # np.mean costs ~5x more per call on tiny batches

    def prob_grad(self, out, t):
        return (2.0 / out.size) * (out - t)

    def value_and_grad(self, out, t):
        d = out - t
        flat = d.ravel()
        return float(flat @ flat) / d.size, (2.0 / d.size) * d


@LOSSES.register("half_squared_error",
                 doc=("the lectures' squared error: ½ Σₖ (target − out)² per sample, mean over samples; its gradient "
                      "is (out − target) with no factor 2 (the classic backprop worked examples use it)"))
class HalfSquaredError(Loss):
    heads, task = (("linear", "targets"),), "regression"
    reconstruction_heads = (("linear", "targets"), ("sigmoid", "targets"))
    formula = "L = 1/N · Σₙ ½ Σₖ (tₙₖ − yₙₖ)²;  ∂L/∂yₙₖ = (yₙₖ − tₙₖ) / N"

    def prob_value(self, out, t):
        d = (out - t).ravel()
        return 0.5 * float(d @ d) / out.shape[0]     # a dot: np.sum of the squares costs ~3x more on tiny batches

    def prob_grad(self, out, t):
        return (out - t) / out.shape[0]

    def value_and_grad(self, out, t):
        d = out - t                                  # (N, K): one difference for both
        flat = d.ravel()
        return 0.5 * float(flat @ flat) / out.shape[0], d / out.shape[0]


@LOSSES.register("binary_crossentropy",
                 doc=("-(t log p + (1-t) log(1-p)), mean over samples and outputs; p = the sigmoid output, or "
                      "sigmoid(out) after a linear output (logits, fused and stable)"))
class BinaryCrossentropy(Loss):
    formula = "L = −1/(N·K) · Σₙ Σₖ [tₙₖ log pₙₖ + (1 − tₙₖ) log(1 − pₙₖ)];  ∂L/∂zₙₖ = (pₙₖ − tₙₖ) / (N·K)"
    fused_with = "sigmoid"
    heads = (("sigmoid", "binary"), ("linear", "binary"))   # probabilities, or logits
    reconstruction_heads = (("sigmoid", "targets"),)         # pixels in [0, 1] read as probabilities
    accepts = tuple(activation for activation, _ in heads)
    classification_only = True

    def prob_value(self, out, t):
        p = np.clip(out, EPS, 1 - EPS)
        return float(-np.mean(t * np.log(p) + (1 - t) * np.log(1 - p)))

    def prob_grad(self, out, t):
        p = np.clip(out, EPS, 1 - EPS)
        return (p - t) / (p * (1 - p)) / out.size

    def link(self, z):
        return _sigmoid(z)

    def fused(self, z, out, t):
        # log(1 + exp(-|z|)) form: stable for any z
        loss = np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))))
        return float(loss), (out - t) / out.size

    def positive_probability(self, out1):
        return _sigmoid(out1) if self.from_logits else np.clip(out1, 0.0, 1.0)


@LOSSES.register("categorical_crossentropy",
                 doc=("-sum_k t_k log p_k, mean over samples; integer labels or one-hot; p = the softmax output, or "
                      "softmax(out) after a linear output (logits, fused and stable)"))
class CategoricalCrossentropy(Loss):
    formula = "L = −1/N · Σₙ Σₖ tₙₖ log pₙₖ,  p = softmax(z);  ∂L/∂zₙₖ = (pₙₖ − tₙₖ) / N"
    fused_with = "softmax"
    heads = (("softmax", "classes"), ("linear", "classes"))  # probabilities, or logits
    accepts = tuple(activation for activation, _ in heads)
    classification_only = True

    def prob_value(self, out, t):
        p = np.clip(out, EPS, 1.0)
        return float(-np.sum(t * np.log(p)) / out.shape[0])

    def prob_grad(self, out, t):
        return -t / np.clip(out, EPS, 1.0) / out.shape[0]

    def link(self, z):
        return _softmax(z)

    def fused(self, z, out, t):
        return float(-np.sum(t * _log_softmax(z)) / z.shape[0]), (out - t) / z.shape[0]

    def activation_problem(self, final_activation, units):
        if units == 1:
            return ("categorical_crossentropy needs one output per class; use binary_crossentropy with one "
                    "sigmoid unit")
        return super().activation_problem(final_activation, units)


MARGIN = Param("margin", "float", 1.0, 0, 1000, min_exclusive=True,
               help="Δ: how far the true class's score must beat the others before the loss is zero")


@LOSSES.register("hinge",
                 doc=("multiclass SVM margin loss Σ_{j≠y} max(0, s_j − s_y + Δ), mean over samples; one output: "
                      "max(0, Δ − t·s), t in {−1, 1}; scores, not probabilities (shown squashed)"),
                 params=[MARGIN])
class Hinge(Loss):
    heads = (("linear", "classes"), ("linear", "binary"))
    formula = "L = 1/N · Σₙ Σ_{j≠yₙ} max(0, sₙⱼ − sₙ,yₙ + Δ);  one output: 1/N · Σₙ max(0, Δ − tₙ sₙ)"
    threshold = 0.0
    classification_only = True

    def targets(self, y, out):
        if out.shape[-1] == 1:  # binary: labels {0, 1} -> {-1, +1}
            return (2 * y.reshape(out.shape) - 1).astype(out.dtype)
        return super().targets(y, out)

    def _margins(self, out, t):
        delta = self.config.get("margin", 1.0)
        if out.shape[-1] == 1:
            return np.maximum(0, delta - t * out)
        correct = (out * t).sum(axis=-1, keepdims=True)       # (N, 1) score of the true class
        return np.maximum(0, out - correct + delta) * (1 - t)  # (N, K), zero at the true class

    def prob_value(self, out, t):
        return float(self._margins(out, t).sum() / out.shape[0])

    def prob_grad(self, out, t):
        n = out.shape[0]
        active = (self._margins(out, t) > 0).astype(out.dtype)                # (N, K)
        if out.shape[-1] == 1:
            return -t * active / n
        return (active - t * active.sum(axis=-1, keepdims=True)) / n

    def positive_probability(self, out1):
        return _sigmoid(2 * np.clip(out1, -20, 20))   # a score s > 0 is class 1; squashed for display only


@LOSSES.register("perceptron",
                 doc=("Rosenblatt's criterion max(0, -t s), t in {-1, 1}, one linear output: with sgd and batch size 1 "
                      "each misclassified point moves the weights by lr * t * x, the perceptron learning rule"))
class Perceptron(Loss):
    heads = (("linear", "binary"),)   # not step: its zero gradient stops the perceptron rule
    formula = "L = 1/N · Σₙ max(0, −tₙ sₙ),  tₙ ∈ {−1, 1};  ∂L/∂sₙ = −tₙ/N where tₙ sₙ ≤ 0"
    threshold = 0.0
    classification_only = True

    def targets(self, y, out):
        return (2 * y.reshape(out.shape) - 1).astype(out.dtype)

    def prob_value(self, out, t):
        return float(np.maximum(0, -t * out).sum() / out.shape[0])

    def prob_grad(self, out, t):
        # a point on the boundary (s = 0) counts as a mistake, as in Rosenblatt's rule: zero weights still learn
        return -t * (t * out <= 0) / out.shape[0]

    def activation_problem(self, final_activation, units):
        if units != 1:
            return "perceptron needs one output unit and two classes"
        return None

    def positive_probability(self, out1):
        return _sigmoid(2 * np.clip(out1, -20, 20))


SUGGESTED = {"classification": "categorical_crossentropy", "regression": "mean_squared_error",
             "reconstruction": "mean_squared_error"}


def output_heads(task: str, n_classes: int | None, n_targets: int = 1) -> list[dict]:
    """Every output head that trains on `task`: [{"activation", "loss", "units"}], the suggestion first,
    then the losses in registry order; read from each loss's `heads`."""
    names = sorted(LOSSES.names(), key=lambda name: name != SUGGESTED[task])
    out = []
    for name in names:
        loss = LOSSES.get(name)
        if task == "reconstruction":
            heads = loss.reconstruction_heads
        elif loss.task != task:
            continue
        else:
            heads = loss.heads
        for activation, rule in heads:
            if rule == "binary" and n_classes != 2:
                continue
            units = {"classes": n_classes, "binary": 1, "targets": n_targets}[rule]
            out.append({"activation": activation, "loss": name, "units": units})
    return out


def make_loss(spec, path: str = "model.loss", final_activation: str | None = None) -> Loss:
    """A loss from a name or {"name": ..., options}, read for a model ending in `final_activation`."""
    return LOSSES.build(spec, path, final_activation)


def loss_name(spec) -> str:
    """The loss's name whether the spec gives a name or {"name": ..., options}."""
    return spec.get("name") if isinstance(spec, dict) else spec


def loss_config(spec) -> dict:
    """The normalized form of a loss spec: {"name": ..., every option filled}."""
    loss = make_loss(spec)
    return {"name": loss.name, **loss.config}
