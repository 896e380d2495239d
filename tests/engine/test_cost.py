"""engine/cost.py: operation counts from shapes alone, and the light / heavy lane the server admits jobs by."""
from __future__ import annotations

import dataclasses

import engine
from engine.cost import ELEMENTWISE_FLOPS, forward_flops, job_cost

DENSE = {"type": "dense", "units": 8, "activation": "tanh"}
PLAYGROUND = {"dataset": {"name": "spiral", "n_samples": 500, "test_ratio": 0.5},
              "model": {"layers": [DENSE, DENSE, {"type": "dense", "units": 2, "activation": "softmax"}],
                        "loss": "categorical_crossentropy"},
              "training": {"batch_size": 32, "epochs": None, "optimizer": {"name": "adam", "learning_rate": 0.03}},
              "stream": {"max_fps": 12, "max_epochs_per_second": 50}}


def mnist_cnn(mnist_dir) -> dict:
    return {"dataset": {"name": "mnist", "path": str(mnist_dir), "limit": 10_000, "download": False},
            "model": {"layers": [{"type": "conv2d", "filters": 8, "kernel_size": 3, "activation": "relu"},
                                 {"type": "maxpool2d", "pool_size": 2}, {"type": "flatten"},
                                 {"type": "dense", "units": 10, "activation": "softmax"}],
                      "loss": "categorical_crossentropy"},
            "training": {"batch_size": 128, "epochs": 2}}


def test_dense_forward_flops_are_two_per_weight_plus_the_elementwise_work():
    spec = {"input_shape": [2], "dtype": "float32", "loss": "categorical_crossentropy",
            "layers": [DENSE, {"type": "dense", "units": 2, "activation": "softmax"}]}
    spec = engine.normalize({"dataset": {"name": "spiral"}, "model": spec})["model"]
    assert forward_flops(spec) == 2 * (2 * 8) + ELEMENTWISE_FLOPS * 8 + 2 * (8 * 2) + ELEMENTWISE_FLOPS * 2


def test_conv_flops_count_every_output_position(mnist_dir):
    model = engine.normalize(mnist_cnn(mnist_dir))["model"]
    conv = 2 * (8 * 1 * 3 * 3) * (26 * 26) + ELEMENTWISE_FLOPS * 8 * 26 * 26
    pool = ELEMENTWISE_FLOPS * 8 * 13 * 13
    flatten = ELEMENTWISE_FLOPS * 8 * 13 * 13
    dense = 2 * (8 * 13 * 13 * 10) + ELEMENTWISE_FLOPS * 10
    assert forward_flops(model) == conv + pool + flatten + dense


def test_the_default_playground_job_is_light_and_an_mnist_cnn_is_heavy(mnist_dir):
    light = job_cost(engine.normalize(PLAYGROUND))
    heavy = job_cost(engine.normalize(mnist_cnn(mnist_dir)))
    assert light.lane == "light" and heavy.lane == "heavy"
    assert heavy.epoch_flops > 1000 * light.epoch_flops


def test_the_limit_decides_the_lane_and_the_epoch_cost_grows_with_the_data():
    small = job_cost(engine.normalize(PLAYGROUND))
    big_spec = {**PLAYGROUND, "dataset": {**PLAYGROUND["dataset"], "n_samples": 5000}}
    big = job_cost(engine.normalize(big_spec))
    assert big.epoch_flops == 10 * small.epoch_flops       # 2500 training rows instead of 250
    assert big.frame_flops == small.frame_flops            # the grids do not depend on the data
    strict = dataclasses.replace(engine.DEFAULT_LIMITS, light_job_flops=small.frame_flops - 1)
    assert job_cost(engine.normalize(PLAYGROUND), strict).lane == "heavy"


def test_the_light_job_limit_is_in_the_catalog():
    assert engine.catalog(engine.DEFAULT_LIMITS)["limits"]["light_job_flops"] == engine.DEFAULT_LIMITS.light_job_flops
