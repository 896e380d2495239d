"""End-of-training evaluation of a classifier: confusion matrix and the misread examples."""
from __future__ import annotations

import base64

import numpy as np


IMAGE_PIXELS = 28 * 28


def _image_b64(x: np.ndarray) -> str | None:
    """A [0, 1] image (any shape with 784 values) as base64 uint8, else None (2-D points)."""
    if x.size != IMAGE_PIXELS:
        return None
    return base64.b64encode(np.rint(np.clip(x, 0, 1) * 255).astype(np.uint8).tobytes()).decode("ascii")


def _cells(x: np.ndarray, y: np.ndarray, pred: np.ndarray, probs: np.ndarray, per_cell: int) -> dict:
    """{"t,p": {"count", "examples": [...]}} for every non-empty confusion cell: up to `per_cell` of the
    examples of true class t read as p, the most confident reading first (what a click on the cell shows)."""
    cells = {}
    for t, p in sorted(set(zip(y.astype(np.int64).tolist(), pred.tolist()))):
        idx = np.flatnonzero((y == t) & (pred == p))                # (count,)
        top = idx[np.argsort(-probs[idx, p], kind="stable")][:per_cell]
        cells[f"{t},{p}"] = {"count": int(len(idx)), "examples": [
            {"index": int(i), "label": int(t), "predicted": int(p), "probability": float(probs[i, p]),
             "image": _image_b64(x[i])} for i in top]}
    return cells


def evaluate_classifier(model, x: np.ndarray, y: np.ndarray, class_names: list[str] | None = None,
                        max_misread: int = 32, per_cell: int = 0) -> dict:
    """Confusion matrix (rows: true class, columns: predicted) and up to `max_misread` misread examples,
    the most confidently wrong first. `x` are raw inputs (the model applies its own pipeline).
    `per_cell` > 0 adds "cells" (see _cells): the examples behind each cell of the matrix."""
    out = model.predict(x)
    pred = model.loss.labels(out)                                    # (N,) as the loss reads the outputs
    probs = model.loss.probabilities(out)                            # (N, max(K, 2))
    k = max(probs.shape[1], int(y.max()) + 1)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (y.astype(np.int64), pred), 1)
    wrong = np.flatnonzero(pred != y)
    confidence = probs[wrong, pred[wrong]]
    order = wrong[np.argsort(-confidence, kind="stable")][:max_misread]
    misread = [{"index": int(i), "label": int(y[i]), "predicted": int(pred[i]),
                "probability": float(probs[i, pred[i]]), "image": _image_b64(x[i])} for i in order]
    result = {"n": int(len(y)), "accuracy": float(np.mean(pred == y)), "confusion": confusion.tolist(),
              "class_names": class_names, "misread": misread}
    if per_cell > 0:
        result["cells"] = _cells(x, y, pred, probs, per_cell)
    return result
