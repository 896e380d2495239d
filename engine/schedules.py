"""Learning-rate schedules: lr(iteration) as a multiple of the base learning rate.

`iteration` counts optimizer steps from 0. The base rate may change mid-run (the UI's `set`
command); schedules scale whatever the base is at that moment.
"""
from __future__ import annotations

import math

from .params import Param
from .registry import Registry

SCHEDULES = Registry("schedule", default="constant")  # null or no name: constant


class Schedule:
    def __init__(self, total_iterations: int, **config):
        self.config, self.total_iterations = config, max(1, total_iterations)

    def factor(self, iteration: int) -> float:
        raise NotImplementedError

    def __call__(self, base_lr: float, iteration: int) -> float:
        return base_lr * self.factor(iteration)


@SCHEDULES.register("constant", doc="the same learning rate throughout")
class Constant(Schedule):
    def factor(self, iteration):
        return 1.0


@SCHEDULES.register("step",
                    doc="multiply by `factor` every `every` iterations: lr <- factor * lr",
                    params=[Param("factor", "float", 0.5, 0, 1, min_exclusive=True),
                            Param("every", "int", 100, 1, 10_000_000, help="iterations between drops")])
class StepDecay(Schedule):
    def factor(self, iteration):
        return self.config["factor"] ** (iteration // self.config["every"])


@SCHEDULES.register("exponential",
                    doc="lr * decay_rate ^ (iteration / decay_steps), smooth",
                    params=[Param("decay_rate", "float", 0.96, 0, 1, min_exclusive=True),
                            Param("decay_steps", "int", 1000, 1, 10_000_000)])
class ExponentialDecay(Schedule):
    def factor(self, iteration):
        return self.config["decay_rate"] ** (iteration / self.config["decay_steps"])


@SCHEDULES.register("cosine",
                    doc="half a cosine from lr down to alpha * lr over decay_steps (default: the whole run)",
                    params=[Param("decay_steps", "int", None, 1, 10_000_000, nullable=True,
                                  help="iterations to decay over; empty = all of training"),
                            Param("alpha", "float", 0.0, 0, 1, help="final fraction of the learning rate")])
class CosineDecay(Schedule):
    def factor(self, iteration):
        steps = self.config["decay_steps"] or self.total_iterations
        progress = min(iteration, steps) / steps
        alpha = self.config["alpha"]
        return (1 - alpha) * 0.5 * (1 + math.cos(math.pi * progress)) + alpha


def make_schedule(spec: dict | None, total_iterations: int, path: str = "training.lr_schedule") -> Schedule:
    return SCHEDULES.build(spec, path, total_iterations)
