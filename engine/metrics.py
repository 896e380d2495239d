"""Per-epoch metrics: loss plus accuracy (classification), R^2 (regression) or the reconstruction error
(reconstruction: an autoencoder's mean squared error per value, whatever loss it trains with).

What a model's outputs mean (its class labels) is decided by its loss (engine/losses.py); these
functions take labels or a model, never a threshold of their own.
"""
from __future__ import annotations

import numpy as np


def accuracy(labels: np.ndarray, y: np.ndarray) -> float:
    """Fraction of predicted labels (N,) equal to the true labels (N,)."""
    return correct(labels, y) / len(labels)


def correct(labels: np.ndarray, y: np.ndarray) -> int:
    """How many predicted labels (N,) equal the true labels (N,)."""
    return int(np.count_nonzero(labels == y.reshape(-1)))


def r2(out: np.ndarray, y: np.ndarray) -> float:
    """Coefficient of determination over every output column (vector targets pooled)."""
    y = y.reshape(out.shape)
    ss_res = float(((y - out) ** 2).sum())
    ss_tot = float(((y - y.mean(axis=0)) ** 2).sum())
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0


def reconstruction_error(out: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error per value between outputs (N, D) and the inputs they rebuild (N, ...)."""
    d = (out - y.reshape(out.shape)).ravel().astype(np.float64)
    return float(d @ d) / max(d.size, 1)


# task -> the score each epoch record carries beside the loss; the one home of that rule
SCORES = {"classification": "accuracy", "regression": "r2", "reconstruction": "reconstruction_error"}
LOWER_IS_BETTER = ("loss", "reconstruction_error")


def score_name(task: str) -> str:
    return SCORES[task]


SPLITS = ("train", "val", "test")
# every metric an epoch record can carry (engine/trainer.py: {split}_loss and {split}_{score_name(task)})
METRIC_NAMES = tuple(f"{split}_{kind}" for split in SPLITS for kind in ("loss", *SCORES.values()))


def epoch_metrics(task: str, validation: bool, test: bool) -> list[str]:
    """The metrics a job's epoch records will have: train always, val with a validation set, test with a
    test set; the loss and the task's score. The trainer's rule, asked by sweeps."""
    splits = ["train"] + (["val"] if validation else []) + (["test"] if test else [])
    return [f"{s}_{kind}" for s in splits for kind in ("loss", score_name(task))]


def lower_is_better(metric: str) -> bool:
    """Whether `metric` (an epoch record key like "val_loss", "test_accuracy") improves by going down."""
    return metric.endswith(LOWER_IS_BETTER)


def score(task: str, out: np.ndarray, y: np.ndarray, loss) -> float:
    """Accuracy of the labels `loss` reads from `out`, R^2 for regression, the reconstruction error."""
    if task == "classification":
        return accuracy(loss.labels(out), y)
    return reconstruction_error(out, y) if task == "reconstruction" else r2(out, y)


def evaluate(model, x: np.ndarray, y: np.ndarray, task: str) -> tuple[float, float]:
    """(loss, score) of `model` on already-preprocessed inputs, in inference mode."""
    out = model.forward_batched(x)
    loss = model.loss.value(out, model.loss.targets(y, out))
    return loss, score(task, out, y, model.loss)
