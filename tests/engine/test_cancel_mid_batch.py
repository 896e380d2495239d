"""A cancel lands between two layers of a batch (Model.between_layers -> Control.interrupt), not after a
multi-second batch: the run ends `stopped` within a second and the half-done step never reaches the weights."""
from __future__ import annotations

import queue
import time

import engine

CONV = {"type": "conv2d", "filters": 8, "padding": "same", "activation": "relu"}


def test_cancel_during_a_multi_second_conv_batch_stops_within_a_second(mnist_dir):
    spec = {"dataset": {"name": "mnist", "path": str(mnist_dir), "limit": 256, "download": False},
            "model": {"layers": [CONV] * 6 + [{"type": "flatten"}, {"type": "dense", "units": 10,
                                                                    "activation": "softmax"}],
                      "loss": "categorical_crossentropy"},
            "training": {"batch_size": 256, "epochs": 3, "optimizer": "adam"}}
    commands: queue.Queue = queue.Queue()
    marks: dict[str, float] = {}

    def read(timeout: float) -> list:
        try:
            return [commands.get(timeout=timeout) if timeout else commands.get_nowait()]
        except queue.Empty:
            return []

    def on_event(event: dict) -> None:
        if event["type"] == "gradients" and event["epoch"] == 0:  # the first batch of epoch 1 starts next
            marks["first_batch"] = time.perf_counter()
            # sent now, not after a delay: the batch is faster than it was (a delay of 0.2 s let it finish and
            # update); only a check between its layers can stop it before its update
            marks.setdefault("cancel", time.perf_counter())
            commands.put({"cmd": "cancel"})

    result = engine.train(spec, on_event=on_event, commands=read,
                          on_model=lambda m: marks.setdefault("start", time.perf_counter()))
    latency = time.perf_counter() - marks["cancel"]
    batch = marks["first_batch"] - marks["start"]  # the epoch-0 gradient: one batch forward + backward
    print(f"one batch forward+backward {batch:.2f} s; cancel -> stopped {latency:.2f} s")
    assert result.outcome == "stopped" and result.history == []
    assert "before the first epoch" not in result.message   # inside epoch 1's first batch, not in the probes
    assert result.model.optimizer.iterations == 0  # stopped inside the first batch, before its update
    assert latency < 2.0
    assert result.model.between_layers is None  # the returned model does not listen to this run any more
