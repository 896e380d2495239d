"""A few test sequences with the model's predictions, for the /sequences page (GET /api/jobs/{id}/sequences).

What a row means depends on the dataset, but the engine decides it, not the page: the first input channel
over time (the sine wave, the memory task's values, the adding task's numbers), the target and the
prediction (a class with its probability for classification, the values for regression), and for `text`
the window and the characters as strings.
"""
from __future__ import annotations

import numpy as np

MAX_EXAMPLES = 32


def sequence_examples(model, dataset, count: int = 8) -> dict:
    """{"task", "dataset", "examples": [{"inputs": [T floats], "target", "prediction", ...}]} for the first
    `count` test sequences (at most MAX_EXAMPLES)."""
    x, y = dataset.x_test[:min(count, MAX_EXAMPLES)], dataset.y_test[:min(count, MAX_EXAMPLES)]
    out = model.predict(x)
    rows = []
    if dataset.task == "classification":
        probs = model.loss.probabilities(out)                       # (n, K)
        labels = model.loss.labels(out)                             # (n,)
        for i in range(len(x)):
            rows.append({"inputs": x[i, :, 0].astype(float).tolist(), "target": int(y[i]),
                         "prediction": int(labels[i]), "probability": float(probs[i, labels[i]]),
                         "correct": bool(labels[i] == y[i])})
    else:
        for i in range(len(x)):
            rows.append({"inputs": x[i, :, 0].astype(float).tolist(), "target": np.ravel(y[i]).astype(float).tolist(),
                         "prediction": np.ravel(out[i]).astype(float).tolist()})
    names = dataset.class_names
    if dataset.name == "text":                                      # windows and characters as text
        for row, window in zip(rows, x):
            row.update(inputs="".join(names[k] for k in window.argmax(axis=1)), target=names[row["target"]],
                       prediction=names[row["prediction"]])
    if dataset.name == "memory":                                    # where the bit was
        for row, seq in zip(rows, x):
            row["marked_step"] = int(seq[:, 1].argmax())
    return {"task": dataset.task, "dataset": dataset.name, "examples": rows}
