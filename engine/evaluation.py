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


def evaluate_classifier(model, x: np.ndarray, y: np.ndarray, class_names: list[str] | None = None,
                        max_misread: int = 32) -> dict:
    """Confusion matrix (rows: true class, columns: predicted) and up to `max_misread` misread examples,
    the most confidently wrong first. `x` are raw inputs (the model applies its own pipeline)."""
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
    return {"n": int(len(y)), "accuracy": float(np.mean(pred == y)), "confusion": confusion.tolist(),
            "class_names": class_names, "misread": misread}
