"""Per-epoch metrics: loss plus accuracy (classification) or R^2 (regression).

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


def score_name(task: str) -> str:
    return "accuracy" if task == "classification" else "r2"


SPLITS = ("train", "val", "test")
# every metric an epoch record can carry (engine/trainer.py: {split}_loss and {split}_{score_name(task)})
METRIC_NAMES = tuple(f"{split}_{kind}" for split in SPLITS for kind in ("loss", "accuracy", "r2"))


def epoch_metrics(task: str, validation: bool, test: bool) -> list[str]:
    """The metrics a job's epoch records will have: train always, val with a validation set, test with a
    test set; accuracy for classification, r2 for regression. The trainer's rule, asked by sweeps."""
    splits = ["train"] + (["val"] if validation else []) + (["test"] if test else [])
    return [f"{s}_{kind}" for s in splits for kind in ("loss", score_name(task))]


def score(task: str, out: np.ndarray, y: np.ndarray, loss) -> float:
    """Accuracy of the labels `loss` reads from `out`, or R^2 for regression."""
    return accuracy(loss.labels(out), y) if task == "classification" else r2(out, y)


def evaluate(model, x: np.ndarray, y: np.ndarray, task: str) -> tuple[float, float]:
    """(loss, accuracy or r2) of `model` on already-preprocessed inputs, in inference mode."""
    out = model.forward_batched(x)
    loss = model.loss.value(out, model.loss.targets(y, out))
    return loss, score(task, out, y, model.loss)
