"""Gradient clipping through the trainer: clipnorm bounds each weight array's step although the
optimizer updates one flat vector (engine/flat.py)."""
from __future__ import annotations

import numpy as np

from engine import build_model, train

SPEC = {"dataset": {"name": "xor", "n_samples": 40, "seed": 0},
        "model": {"layers": [{"type": "dense", "units": 4, "activation": "tanh"},
                             {"type": "dense", "units": 2, "activation": "softmax"}],
                  "loss": "categorical_crossentropy"},
        "training": {"optimizer": {"name": "sgd", "learning_rate": 1.0, "clipnorm": 1e-3}, "batch_size": 10,
                     "epochs": 1, "seed": 3}, "stream": {"histograms": False}}


def _moves(spec):
    start = build_model({**spec["model"], "input_shape": [2]}, rng=np.random.default_rng(3)).get_weights()
    end = train(spec).model.get_weights()
    return {k: float(np.linalg.norm(end[k] - start[k])) for k in start}


def test_clipnorm_bounds_every_weight_arrays_step_in_a_training_run():
    moves = _moves(SPEC)
    steps = 2   # 20 training rows / 10
    assert all(0 < m <= steps * 1e-3 * (1 + 1e-5) for m in moves.values()), moves
    # without clipping the same run moves the weights much further
    free = _moves({**SPEC, "training": {**SPEC["training"], "optimizer": {"name": "sgd", "learning_rate": 1.0}}})
    assert max(free.values()) > 10 * steps * 1e-3
