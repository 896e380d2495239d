"""The fused dense step (engine/fused_step.py) trains bit for bit as the layer path does, and is used only
where it applies."""
import copy

import numpy as np
import pytest

from engine import trainer as trainer_module
from engine.fused_step import FusedDenseStep
from engine.parallel import set_threads
from engine.presets import PRESETS
from engine.trainer import Trainer


def _spec(layers, loss, dataset=None, **training):
    return {"dataset": dataset or {"name": "spiral", "n_samples": 200, "noise": 0.1},
            "model": {"layers": layers, "loss": loss},
            "training": {"epochs": 4, "batch_size": 7, "seed": 3,
                         "optimizer": {"name": "adam", "learning_rate": 0.01}, **training}}


def _dense(*units, activation="tanh", out="tanh", **extra):
    return [{"type": "dense", "units": u, "activation": activation, **extra} for u in units] + \
        [{"type": "dense", "units": None, "activation": out}]


XS = np.random.default_rng(0).uniform(-1, 1, (90, 2))
CASES = {
    # the spiral row: tanh stack, the lectures' squared error (value_and_grad, then the output's tanh)
    "tanh half squared": _spec(_dense(8, 8), "half_squared_error"),
    # softmax + categorical cross-entropy: the loss gives d(loss)/dz (fused)
    "relu softmax": _spec(_dense(6, activation="relu", out="softmax"), "categorical_crossentropy"),
    # sigmoid + binary cross-entropy, L2 and a momentum optimizer
    "sigmoid bce l2": _spec(_dense(5, activation="sigmoid", out="sigmoid"), "binary_crossentropy",
                            regularization={"l2": 0.01},
                            optimizer={"name": "sgd", "learning_rate": 0.1, "momentum": 0.9}),
    # no bias (z = x W), a linear output scored as logits
    "no bias logits": _spec(_dense(4, activation="leaky_relu", out="linear", use_bias=False),
                            "categorical_crossentropy"),
    # regression with mean squared error on a linear output
    "regression": _spec(_dense(8, 8, out="linear"), "mean_squared_error",
                        dataset={"name": "inline", "task": "regression", "x": XS.tolist(),
                                 "y": np.sin(XS @ [[2.0], [1.0]]).tolist()}),
}


def _train(spec, fused: bool):
    original = FusedDenseStep.fits
    try:
        if not fused:
            FusedDenseStep.fits = staticmethod(lambda model: False)
        trainer = Trainer(spec)
        assert (trainer.fused is not None) == fused
        return trainer.run()
    finally:
        FusedDenseStep.fits = original


@pytest.mark.parametrize("name", list(CASES))
def test_fused_step_trains_the_same_bits_as_the_layer_path(name):
    spec = CASES[name]
    fused, layered = _train(spec, True), _train(spec, False)
    assert fused.outcome == layered.outcome == "completed"
    wf, wl = fused.model.get_weights(), layered.model.get_weights()
    assert wf.keys() == wl.keys()
    for key in wf:
        assert np.array_equal(wf[key], wl[key]), key
    for a, b in zip(fused.history, layered.history):
        assert {k: v for k, v in a.items() if k not in ("seconds", "examples_per_second")} == \
            {k: v for k, v in b.items() if k not in ("seconds", "examples_per_second")}


def test_fused_gradients_equal_the_layer_path_on_one_batch():
    trainer = Trainer(CASES["relu softmax"])
    x, t = trainer.splits["train"].x[:9], trainer.train_targets[:9]
    loss_fused, out_fused = trainer.fused(x, t)
    fused_grads = trainer.flat.grads.copy()
    trainer.flat.grads[:] = 0
    loss_layers, out_layers = trainer.model.loss_and_backward(x, targets=t)
    trainer.flat.sync_grads()
    assert loss_fused == loss_layers
    assert np.array_equal(out_fused, out_layers)
    assert np.array_equal(fused_grads, trainer.flat.grads)
    assert np.count_nonzero(fused_grads) > 0


def test_the_permuted_once_epoch_equals_fancy_indexing(monkeypatch):
    spec = CASES["tanh half squared"]
    once = _train(spec, True)
    monkeypatch.setattr(trainer_module, "PERMUTE_ONCE_BYTES", -1)    # every set indexed batch by batch
    indexed = _train(spec, True)
    for key, value in once.model.get_weights().items():
        assert np.array_equal(value, indexed.model.get_weights()[key]), key


def test_fused_step_applies_only_to_small_dense_stacks(mnist_dir):
    assert Trainer(CASES["tanh half squared"]).fused is not None
    conv = {"dataset": {"name": "mnist", "path": str(mnist_dir), "limit": 64, "flatten": False, "download": False},
            "model": {"layers": [{"type": "conv2d", "filters": 2, "kernel_size": 3, "activation": "relu"},
                                 {"type": "flatten"}, {"type": "dense", "units": 10, "activation": "softmax"}],
                      "loss": "categorical_crossentropy"},
            "training": {"epochs": 1, "batch_size": 4}}
    assert Trainer(conv).fused is None
    dropout = _spec([{"type": "dense", "units": 8, "activation": "relu"}, {"type": "dropout", "rate": 0.5},
                     {"type": "dense", "units": None, "activation": "softmax"}], "categorical_crossentropy")
    assert Trainer(dropout).fused is None
    # a batch big enough to check for a cancel between layers keeps the layer path (Model.between_layers)
    big = _spec([{"type": "dense", "units": 1000, "activation": "relu"}] * 3 +
                [{"type": "dense", "units": None, "activation": "softmax"}], "categorical_crossentropy",
                batch_size=64)
    assert Trainer(big).interrupt_layers and Trainer(big).fused is None


def test_a_batch_dense_would_split_goes_the_layer_path(monkeypatch):
    """With a job's threads, a batch that Dense would split is trained by the splitting layers. (With the default
    SPLIT_MIN_MACS no batch small enough for the fused step is split; the guard holds if the rules move.)"""
    from engine.layers import dense
    wide = _spec([{"type": "dense", "units": 256, "activation": "relu"},
                  {"type": "dense", "units": None, "activation": "softmax"}], "categorical_crossentropy",
                 dataset={"name": "spiral", "n_samples": 600}, batch_size=256)
    trainer = Trainer(wide)
    assert trainer.fused is not None
    try:
        set_threads(2)
        assert not trainer.fused.splits(256)              # 256 x 2 x 256 multiply-adds: too small to split
        monkeypatch.setattr(dense, "SPLIT_MIN_MACS", 0)
        trainer.fused._splits.clear()
        assert trainer.fused.splits(256)
        assert not trainer.fused.splits(2)
        layer_path, original = [], trainer.model.loss_and_backward
        monkeypatch.setattr(trainer.model, "loss_and_backward", lambda *a, **k: layer_path.append(1) or original(*a, **k))
        result = trainer.run()
    finally:
        set_threads(1)
    assert result.outcome == "completed"
    # the full batches of 256 rows (and the starting-gradient pass) went through the splitting layers; each
    # epoch's short last batch is too small to split and went the fused step
    full, rest = divmod(trainer.n_train, 256)
    assert full >= 1 and rest > 0
    assert len(layer_path) == full * 4 + 1
    assert not trainer.fused.splits(256)


DENSE_PRESETS = [p for p in PRESETS if p["spec"]["model"].get("type") != "knn"
                 and all(layer["type"] == "dense" for layer in p["spec"]["model"]["layers"])]


@pytest.mark.parametrize("preset", DENSE_PRESETS, ids=[p["name"] for p in DENSE_PRESETS])
def test_every_dense_preset_trains_fused_and_the_same_as_the_layer_path(preset):
    spec = copy.deepcopy(preset["spec"])
    spec["training"]["epochs"] = 2
    fused, layered = _train(spec, True), _train(spec, False)
    for key, value in fused.model.get_weights().items():
        assert np.array_equal(value, layered.model.get_weights()[key]), key
    assert [h["train_loss"] for h in fused.history] == [h["train_loss"] for h in layered.history]
