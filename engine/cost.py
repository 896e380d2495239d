"""How much compute a job asks for, estimated from shapes alone: light jobs share a worker, heavy ones get their own.

`estimate_job_cost(spec, facts)` counts floating-point operations (a multiply-add is 2):
  forward      one example through every layer (dense / maxout: 2 x weights; conv: 2 x weights x output
               positions; every other layer and each activation: a few operations per output element)
  epoch        training (forward + backward ~ 3 forwards per training row) plus the end-of-epoch evaluation
               (one forward per training row: the held-out sets are at most that size in practice)
  frame        one set of frames: the boundary grid (stream.resolution^2), the neuron maps
               (stream.neuron_resolution^2) and the histograms' activation rows, forward only
`job_lane(spec, facts, limits)` is "light" when both the epoch and the frame stay within
`limits.light_job_flops` (the default playground job is ~0.3 MFLOP per epoch and ~1.2 per frame; one
epoch of a small MNIST CNN is ~10 GFLOP), else "heavy". The server admits and places jobs by lane
(docs/DESIGN.md, "Admission and executors").
"""
from __future__ import annotations

import math
from dataclasses import dataclass

ELEMENTWISE_FLOPS = 4      # per output element of a layer without weights (activation, pooling, dropout...)
TRAIN_FACTOR = 3           # forward + backward (input and weight gradients) ~ three forward passes
ACTIVATION_ROWS = 64       # engine/probes.py's histogram batch, at most


@dataclass(frozen=True)
class JobCost:
    forward_flops: int       # one example, forward
    epoch_flops: int         # training + evaluation of one epoch
    frame_flops: int         # the probes' forward passes for one set of frames
    lane: str                # "light" | "heavy"

    def to_json(self) -> dict:
        return {"forward_flops": self.forward_flops, "epoch_flops": self.epoch_flops,
                "frame_flops": self.frame_flops, "lane": self.lane}


def forward_flops(model_spec: dict) -> int:
    """Operations for one example through a normalized model spec (input_shape filled in)."""
    from .model import _instantiate
    shape, total = tuple(model_spec["input_shape"]), 0
    for i, layer_spec in enumerate(model_spec["layers"]):
        layer = _instantiate(layer_spec, f"model.layers.{i}")
        out = layer.compute_output_shape(shape)
        # kernels (2-D and up: W, a recurrent U), each weight one multiply-add per position it is applied at
        weights = sum(math.prod(s) for s in layer.param_shapes(shape).values() if len(s) >= 2)
        if layer_spec["type"] == "conv2d":       # every output position of every filter
            positions = math.prod(out[1:])
        elif len(shape) == 2:                    # a sequence (T, D): recurrent / time-distributed, every step
            positions = shape[0]
        else:
            positions = 1
        total += 2 * weights * positions + ELEMENTWISE_FLOPS * math.prod(out)   # + bias, activation
        shape = out
    return int(total)


def estimate_job_cost(spec: dict, facts, limits=None) -> JobCost:
    """JobCost of a normalized job spec on data with these DataFacts (engine.spec.prepare_dataset)."""
    from .limits import DEFAULT_LIMITS
    limits = limits or DEFAULT_LIMITS
    model = {**spec["model"], "input_shape": spec["model"].get("input_shape") or list(facts.input_shape)}
    per_example = forward_flops(model)
    n_train = max(1, facts.n_train or 1)
    epoch = per_example * n_train * (TRAIN_FACTOR + 1)
    stream = spec.get("stream") or {}
    rows = ACTIVATION_ROWS if stream.get("histograms") else 0
    if stream.get("boundary") and (spec.get("dataset") or {}).get("features") is not None:
        rows += stream.get("resolution", 0) ** 2 + stream.get("neuron_resolution", 0) ** 2
    frame = per_example * rows
    lane = "light" if max(epoch, frame) <= limits.light_job_flops else "heavy"
    return JobCost(per_example, int(epoch), int(frame), lane)


def job_cost(spec: dict, limits=None) -> JobCost:
    """JobCost of a normalized job spec, reading its data's facts (cheap sets are built, images declared)."""
    from .spec import prepare_dataset
    from .limits import DEFAULT_LIMITS
    limits = limits or DEFAULT_LIMITS
    _, facts = prepare_dataset(spec["dataset"], limits)
    return estimate_job_cost(spec, facts, limits)
