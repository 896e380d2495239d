"""Per-epoch metrics: loss plus accuracy (classification) or R^2 (regression)."""
from __future__ import annotations

import numpy as np


def predicted_labels(out: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Class per row: argmax for K > 1 outputs; above `threshold` for one output (0.5 sigmoid, 0 margin losses)."""
    if out.shape[-1] == 1:
        return (out[:, 0] > threshold).astype(np.int64)
    return out.argmax(axis=-1)


def accuracy(out: np.ndarray, y: np.ndarray, threshold: float = 0.5) -> float:
    return float(np.mean(predicted_labels(out, threshold) == y.reshape(-1)))


def r2(out: np.ndarray, y: np.ndarray) -> float:
    y = y.reshape(out.shape)
    ss_res = float(((y - out) ** 2).sum())
    ss_tot = float(((y - y.mean(axis=0)) ** 2).sum())
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0


def score_name(task: str) -> str:
    return "accuracy" if task == "classification" else "r2"


def score(task: str, out: np.ndarray, y: np.ndarray, threshold: float = 0.5) -> float:
    return accuracy(out, y, threshold) if task == "classification" else r2(out, y)


def evaluate(model, x: np.ndarray, y: np.ndarray, task: str) -> tuple[float, float]:
    """(loss, accuracy or r2) of `model` on already-preprocessed inputs, in inference mode."""
    out = model.forward_batched(x)
    loss = model.loss.value(out, model.loss.targets(y, out))
    return loss, score(task, out, y, model.loss.threshold)
