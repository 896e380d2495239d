"""engine/memory.py: a job's peak memory is estimated from shapes, and validate refuses what exceeds
limits.max_job_bytes at the field that drives it."""
from __future__ import annotations

import dataclasses
import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import engine
from engine.memory import _layer_costs, estimate_job_memory
from engine.optimizers import make_optimizer
from engine.spec import prepare_dataset

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "examples").glob("*.json")) + [REPO / "engine" / "assets" / "digit_model.spec.json"]

WIDE_CONV = {"dataset": {"name": "mnist"},
             "model": {"layers": [{"type": "conv2d", "filters": 512, "kernel_size": 3, "padding": "same"},
                                  {"type": "flatten"}, {"type": "dense", "units": 10, "activation": "softmax"}],
                       "loss": "categorical_crossentropy"},
             "training": {"batch_size": 65536}}


def test_a_spec_within_every_other_limit_that_needs_tens_of_gb_is_refused_at_the_batch_size():
    unlimited = dataclasses.replace(engine.DEFAULT_LIMITS, max_job_bytes=10**15)
    assert engine.validate(WIDE_CONV, unlimited) == []  # every other limit passes
    problems = engine.validate(WIDE_CONV, engine.Limits(max_job_bytes=16 * 10**9))
    assert [p.path for p in problems] == ["training.batch_size"]
    assert "GB of memory" in problems[0].message and "max_job_bytes" in problems[0].message
    assert "model.layers.0" in problems[0].message


def test_a_smaller_batch_of_a_narrower_network_fits():
    layers = [{**WIDE_CONV["model"]["layers"][0], "filters": 64}, *WIDE_CONV["model"]["layers"][1:]]
    spec = {**WIDE_CONV, "model": {**WIDE_CONV["model"], "layers": layers}, "training": {"batch_size": 32}}
    assert engine.validate(spec, engine.Limits(max_job_bytes=16 * 10**9)) == []


def test_when_evaluation_chunks_set_the_peak_the_layer_is_named():
    # batch 32 is small, but evaluation runs 4096 rows at a time through the 512-filter layer (~26 GB)
    problems = engine.validate({**WIDE_CONV, "training": {"batch_size": 32}}, engine.Limits(max_job_bytes=16 * 10**9))
    assert [p.path for p in problems] == ["model.layers.0"] and "evaluating 4,096 rows" in problems[0].message


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_examples_and_the_digit_model_are_accepted(path):
    assert engine.validate(json.loads(path.read_text())) == []


def test_the_default_limit_is_a_fraction_of_the_machine_and_listed_in_the_catalog():
    import os
    machine = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert 0 < engine.DEFAULT_LIMITS.max_job_bytes < machine
    assert engine.catalog(engine.DEFAULT_LIMITS)["limits"]["max_job_bytes"] == engine.DEFAULT_LIMITS.max_job_bytes


@pytest.mark.parametrize("units,batch,optimizer", [(64, 4096, "adam"), (256, 2000, "sgd"), (512, 512, "rmsprop")])
def test_the_estimate_of_a_small_mlp_is_within_2x_of_the_measured_peak_of_one_step(units, batch, optimizer):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, 8))
    y = np.arange(batch) % 2
    spec = engine.normalize({
        "dataset": {"name": "inline", "x": x.tolist(), "y": y.tolist()},
        "model": {"layers": [{"type": "dense", "units": units, "activation": "tanh"},
                             {"type": "dense", "units": units, "activation": "relu"},
                             {"type": "dense", "units": 2, "activation": "softmax"}],
                  "loss": "categorical_crossentropy"},
        "training": {"batch_size": batch, "optimizer": optimizer}, "stream": {"boundary": False}})
    est = estimate_job_memory(spec, prepare_dataset(spec["dataset"])[1])
    x = x.astype(np.float32)
    tracemalloc.start()
    try:
        model, opt = engine.build_model(spec["model"]), make_optimizer(spec["training"]["optimizer"])
        model.loss_and_backward(x, y)
        opt.step(model.params, model.grads)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    step = est.parts["parameters"] + est.parts["optimizer"] + est.parts["activations"]
    print(f"{units} units, batch {batch}, {optimizer}: estimate {step / 1e6:.1f} MB, measured {peak / 1e6:.1f} MB")
    assert peak / 2 <= step <= 2 * peak


@pytest.mark.parametrize("padding,batch", [("same", 64), ("valid", 128)])
def test_the_estimate_of_a_small_cnn_is_within_2x_of_the_measured_peak_of_two_steps(padding, batch):
    """Two steps: the second reuses the conv layers' scratch buffers (im2col columns, padded input, gradient
    grid), so the peak holds them and the fresh temporaries of a step at once. No data is loaded: the
    estimate's activation part depends on shapes only."""
    spec = engine.normalize({
        "dataset": {"name": "mnist", "flatten": False},
        "model": {"layers": [{"type": "conv2d", "filters": 8, "kernel_size": 3, "padding": padding, "activation": "relu"},
                             {"type": "maxpool2d", "pool_size": 2},
                             {"type": "conv2d", "filters": 16, "kernel_size": 3, "padding": padding, "activation": "relu"},
                             {"type": "flatten"}, {"type": "dense", "units": 10, "activation": "softmax"}],
                  "loss": "categorical_crossentropy"},
        "training": {"batch_size": batch, "optimizer": "adam"}, "stream": {"boundary": False}})
    est = estimate_job_memory(spec, None)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, *spec["model"]["input_shape"])).astype(np.float32)
    y = np.arange(batch) % 10
    tracemalloc.start()
    try:
        model, opt = engine.build_model(spec["model"]), make_optimizer(spec["training"]["optimizer"])
        for _ in range(2):
            model.loss_and_backward(x, y)
            opt.step(model.params, model.grads)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    costs = [c for c, _ in _layer_costs(spec["model"])]     # the training step's part of "activations"
    activations = batch * (sum(c.kept for c in costs) + max(c.backward for c in costs)) * 4
    step = est.parts["parameters"] + est.parts["optimizer"] + activations
    print(f"conv {padding}, batch {batch}: estimate {step / 1e6:.1f} MB, measured {peak / 1e6:.1f} MB")
    assert peak / 2 <= step <= 2 * peak


def test_optimizer_slots_come_from_the_optimizer_itself():
    spec = engine.normalize({"dataset": {"name": "xor"}, "model": {
        "layers": [{"type": "dense", "units": 512}, {"type": "dense", "units": 2, "activation": "softmax"}],
        "loss": "categorical_crossentropy"}, "training": {"optimizer": "sgd"}})
    facts = prepare_dataset(spec["dataset"])[1]
    sgd = estimate_job_memory(spec, facts).parts["optimizer"]
    spec["training"]["optimizer"] = {"name": "adam"}
    adam = estimate_job_memory(spec, facts).parts["optimizer"]
    n_params = 2 * 512 + 512 + 512 * 2 + 2
    assert adam - sgd == 4 * n_params  # one more float32 slot per parameter


def test_an_epoch_of_the_shipped_digit_spec_peaks_under_300_mb(mnist_dir):
    """Issue 12's memory goal, traced: one epoch of engine/assets/digit_model.spec.json as shipped (conv 16 >
    pool > conv 32 > pool > dense 128, batch 64, augmentation) with the evaluation of all 10,000 test images.
    Training reads the first 2,048 images: an epoch's batches all have the same shapes, so a longer training set
    adds only its own rows, and the evaluation chunks (Model.chunk_rows) are what used to reach 1.9 GB."""
    spec = json.loads((Path(engine.__file__).parent / "assets" / "digit_model.spec.json").read_text())
    spec["dataset"].update({"path": str(mnist_dir), "limit": 2048, "download": False})
    spec["training"]["epochs"] = 1
    tracemalloc.start()
    try:
        result = engine.train(spec)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.history[0]["test_accuracy"] > 0.5        # it trained and evaluated the whole test set
    print(f"digit spec, one epoch: traced peak {peak / 1e6:.0f} MB")
    assert peak < 300e6
