"""Logic gates on {0, 1}^2: the truth table, optionally repeated with jitter.

The classic demonstration: one perceptron separates and / or / nand but not xor_gate.
"""
from __future__ import annotations

import numpy as np

from ..params import Param
from .base import DATASETS, Dataset, seed_param
from .features import apply_features, check_features

MAX_REPEAT = 1000
GATE_DOMAIN = [[-0.5, 1.5], [-0.5, 1.5]]
TRUTH_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)   # (4, 2)

GATE_OPTIONS = [
    Param("repeat", "int", 1, 1, MAX_REPEAT, help="copies of the 4-row truth table in the training set"),
    Param("jitter", "float", 0.0, 0.0, 0.5,
          help="uniform noise +-jitter added to the repeated training inputs (the test set stays exact)"),
    seed_param(),
]


def _gate(name: str, outputs: tuple[int, int, int, int]):
    doc = (f"logic {name.removesuffix('_gate').upper()}: outputs {list(outputs)} for inputs (0,0) (0,1) (1,0) (1,1); "
           "jitter moves the training points, labels never change; the test set is the exact truth table")

    @DATASETS.register(name, doc=doc, params=GATE_OPTIONS, kind="gates")
    def load(options: dict, spec: dict, features) -> Dataset:
        features = check_features(features)
        labels = np.array(outputs, dtype=np.int64)
        rng = np.random.default_rng(options["seed"])
        repeat, jitter = options["repeat"], options["jitter"]
        p_train = np.tile(TRUTH_INPUTS, (repeat, 1))                                  # (4 * repeat, 2)
        if jitter > 0:
            p_train = p_train + rng.uniform(-jitter, jitter, p_train.shape).astype(np.float32)
        return Dataset(
            name=name, x_train=apply_features(p_train, features), y_train=np.tile(labels, repeat),
            x_test=apply_features(TRUTH_INPUTS, features), y_test=labels.copy(), task="classification",
            n_classes=2, class_names=["0", "1"], input_shape=(len(features),),
            domain=[list(r) for r in GATE_DOMAIN], features=features,
            points_train=p_train, points_test=TRUTH_INPUTS.copy())
    load.truth_table = outputs
    return load


AND = _gate("and", (0, 0, 0, 1))
OR = _gate("or", (0, 1, 1, 1))
XOR_GATE = _gate("xor_gate", (0, 1, 1, 0))
NAND = _gate("nand", (1, 1, 1, 0))
