"""engine.evaluation: the examples behind each confusion-matrix cell (what /digits shows on a click)."""
from __future__ import annotations

import base64

import numpy as np

import engine
from engine.evaluation import evaluate_classifier


def threshold_model():
    """One sigmoid unit reading pixel 0: class 1 when it is bright (784 inputs so images are returned)."""
    model = engine.build_model({"input_shape": [784], "layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}],
                                "loss": "binary_crossentropy"}, seed=0)
    model.layers[0].params["W"][...] = 0
    model.layers[0].params["W"][0, 0] = 20.0
    model.layers[0].params["b"][...] = -10.0
    return model


def test_every_nonempty_cell_lists_its_examples_most_confident_first():
    x = np.zeros((6, 784), np.float32)
    x[:, 0] = [0.0, 0.2, 1.0, 0.9, 0.95, 0.1]       # read as 0, 0, 1, 1, 1, 0
    y = np.array([0, 1, 1, 0, 0, 0])
    result = evaluate_classifier(threshold_model(), x, y, per_cell=2)
    cells = result["cells"]
    assert set(cells) == {"0,0", "1,0", "1,1", "0,1"}
    assert [cells[k]["count"] for k in ("0,0", "0,1", "1,0", "1,1")] == [2, 2, 1, 1]
    assert sum(c["count"] for c in cells.values()) == result["n"]
    wrong_ones = cells["0,1"]["examples"]            # true 0 read as 1: pixel 0.95 (index 4) before 0.9 (index 3)
    assert [e["index"] for e in wrong_ones] == [4, 3]
    assert wrong_ones[0]["probability"] > wrong_ones[1]["probability"] > 0.5
    image = np.frombuffer(base64.b64decode(wrong_ones[0]["image"]), np.uint8)
    assert image.shape == (784,) and image[0] == round(0.95 * 255)


def test_cells_are_left_out_unless_asked_for():
    x = np.zeros((2, 784), np.float32)
    assert "cells" not in evaluate_classifier(threshold_model(), x, np.array([0, 1]))
