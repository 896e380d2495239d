"""Optimizers with Keras names, defaults and update rules. step() updates arrays in place.

Per-parameter state lives in self.state[key]; keys are the model's "{i}.W" / "{i}.b".
"""
from __future__ import annotations

import threading

import numpy as np

from .parallel import SPLIT
from .params import Param
from .registry import Registry

OPTIMIZERS = Registry("optimizer", default="sgd")  # null or no name: sgd

UPDATE_CHUNK = 65_536       # values per range of a long flat vector's update (see Optimizer.update_chunked)
# Every this many steps an optimizer's state arrays have their subnormal values set to 0 (flush_subnormals).
FLUSH_EVERY = 16


def flush_subnormals(a: np.ndarray) -> None:
    """Set the subnormal values (0 < |x| < the dtype's smallest normal) of a float array to 0, in place.

    Why: a weight whose gradient is 0 for good (a dead unit's, a pixel that is always black) has its Adam or
    momentum average decay by 0.9 a step into the subnormal range, where it stays: 0.1 x the smallest subnormal
    rounds to 0, so `m += 0.1 * (0 - m)` leaves it there. x86 computes with subnormal operands ~100x slower: the
    digit model's Adam step went 0.66 -> 2.0 ms per batch (30,062 of its 206,922 `m` values subnormal after 3
    epochs), +0.5 s per epoch. TensorFlow flushes subnormals to zero on the CPU for the same reason. A state value
    that small moves no weight (alpha * m / (sqrt(v) + eps) < 1e-30), so the weights keep their bits.
    """
    if a.dtype.kind == "f":
        np.copyto(a, 0, where=np.abs(a) < np.finfo(a.dtype).tiny)
MAX_LEARNING_RATE = 100.0   # the lectures try rates up to 100 to show divergence


def lr_param(default: float) -> Param:
    """The learning rate, with one range for every optimizer (and for the `set` command)."""
    return Param("learning_rate", "float", default, 0, MAX_LEARNING_RATE, min_exclusive=True, help="step size")


LR = lr_param(0.01)
EPSILON = Param("epsilon", "float", 1e-7, 0, 1, min_exclusive=True, help="avoids division by zero")
# Keras' gradient clipping, on every optimizer: against the exploding gradients of recurrent networks
CLIPPING = [
    Param("clipnorm", "float", None, 0, 1e6, nullable=True, min_exclusive=True,
          help="scale each weight's gradient down so its norm is at most this (Keras: per weight array); empty = off"),
    Param("clipvalue", "float", None, 0, 1e6, nullable=True, min_exclusive=True,
          help="clip every gradient element to [-clipvalue, clipvalue] (before clipnorm); empty = off"),
]


class Optimizer:
    def __init__(self, **config):
        self.config = config
        self.learning_rate = config["learning_rate"]  # the schedule writes this every iteration
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.iterations = 0
        self.clipping = bool(config.get("clipnorm") or config.get("clipvalue"))
        # key -> start offsets of the weight arrays packed in it (engine/flat.py): clipnorm is per weight
        # array, as in Keras, also when the trainer steps one flat vector; a key not listed is one array
        self.segments: dict[str, np.ndarray] = {}

    slots: dict[str, float | str] = {}  # per-parameter state arrays and their initial value

    def step(self, params: dict, grads: dict) -> None:
        self.iterations += 1
        for key, p in params.items():
            s = self.state.get(key)
            if s is None:  # allocate once, not a throwaway default on every step
                s = self.state[key] = {name: np.full_like(p, self._initial(init)) for name, init in self.slots.items()}
            g = grads[key]
            g = self.clip(key, g) if self.clipping else g
            blocks = SPLIT.parts(p.size, 4 * p.size) if SPLIT.threads > 1 and p.ndim == 1 else None
            if blocks is None or len(blocks) == 1:
                self.update_chunked(p, g, s)
            else:   # a job's threads (engine/parallel.py) update ranges of the flat vector: elementwise, same bits
                SPLIT.run(lambda i, r: self.update_chunked(p[r], g[r], {name: a[r] for name, a in s.items()}),
                          blocks)
            if self.iterations % FLUSH_EVERY == 0:
                for a in s.values():
                    flush_subnormals(a)

    def update_chunked(self, p: np.ndarray, g: np.ndarray, s: dict) -> None:
        """update() over ranges of UPDATE_CHUNK values of a long flat vector: an update is elementwise (same
        bits), and a range's parameters, gradient, state and scratch (~6 x 256 KB for Adam) stay in the core's
        L2 cache through all of its ~12 passes, where a 784-256-128-10 MLP's whole vectors (6 x 0.9 MB) do not."""
        n = p.size
        if p.ndim != 1 or n <= 2 * UPDATE_CHUNK:
            self.update(p, g, s)
            return
        for start in range(0, n, UPDATE_CHUNK):
            r = slice(start, start + UPDATE_CHUNK)
            self.update(p[r], g[r], {name: a[r] for name, a in s.items()})

    def clip(self, key: str, g: np.ndarray) -> np.ndarray:
        """A clipped copy of the gradient (the model's own gradient, which the probes show, is left alone):
        clipvalue elementwise, then clipnorm per weight array."""
        value, norm = self.config.get("clipvalue"), self.config.get("clipnorm")
        g = np.clip(g, -value, value) if value else g.copy()
        if norm:
            starts = self.segments.get(key)
            flat = g.reshape(-1)
            if starts is None:
                starts = np.zeros(1, dtype=np.intp)
            norms = np.sqrt(np.add.reduceat(flat * flat, starts))          # (arrays,): one norm per weight array
            scale = np.minimum(1.0, norm / np.maximum(norms, 1e-30)).astype(g.dtype)
            flat *= np.repeat(scale, np.diff(np.append(starts, flat.size)))
        return g

    def _initial(self, init) -> float:
        return self.config[init] if isinstance(init, str) else init

    def update(self, p: np.ndarray, g: np.ndarray, s: dict) -> None:
        raise NotImplementedError


@OPTIMIZERS.register("sgd",
                     doc="gradient descent; momentum > 0 adds velocity, nesterov looks ahead",
                     params=[LR, Param("momentum", "float", 0.0, 0, 1, help="0 = plain gradient descent"),
                             Param("nesterov", "bool", False)] + CLIPPING)
class SGD(Optimizer):
    slots = {"velocity": 0.0}

    def update(self, p, g, s):
        lr, m = p.dtype.type(self.learning_rate), p.dtype.type(self.config["momentum"])
        if m == 0:
            p -= lr * g
            return
        v = s["velocity"]
        v *= m
        v -= lr * g                       # v <- m v - lr g
        if self.config["nesterov"]:
            p += m * v - lr * g
        else:
            p += v


@OPTIMIZERS.register("adagrad",
                     doc="per-weight step sizes shrinking with the sum of squared gradients",
                     params=[lr_param(0.001),
                             Param("initial_accumulator_value", "float", 0.1, 0, 10), EPSILON] + CLIPPING)
class Adagrad(Optimizer):
    slots = {"accumulator": "initial_accumulator_value"}

    def update(self, p, g, s):
        acc = s["accumulator"]
        acc += g * g
        p -= p.dtype.type(self.learning_rate) * g / (np.sqrt(acc) + p.dtype.type(self.config["epsilon"]))


@OPTIMIZERS.register("rmsprop",
                     doc="divides by a running average of squared gradients",
                     params=[lr_param(0.001),
                             Param("rho", "float", 0.9, 0, 1, help="decay of the squared-gradient average"),
                             Param("momentum", "float", 0.0, 0, 1), EPSILON] + CLIPPING)
class RMSprop(Optimizer):
    slots = {"mean_square": 0.0, "velocity": 0.0}

    def update(self, p, g, s):
        rho = p.dtype.type(self.config["rho"])
        ms = s["mean_square"]
        ms *= rho
        ms += (1 - rho) * g * g
        step = p.dtype.type(self.learning_rate) * g / (np.sqrt(ms) + p.dtype.type(self.config["epsilon"]))
        if self.config["momentum"] > 0:
            v = s["velocity"]
            v *= p.dtype.type(self.config["momentum"])
            v += step
            step = v
        p -= step


@OPTIMIZERS.register("adam",
                     doc="momentum plus RMSprop scaling, with bias correction",
                     params=[lr_param(0.001),
                             Param("beta_1", "float", 0.9, 0, 1, help="decay of the gradient average"),
                             Param("beta_2", "float", 0.999, 0, 1, help="decay of the squared-gradient average"),
                             EPSILON] + CLIPPING)
class Adam(Optimizer):
    slots = {"m": 0.0, "v": 0.0}

    def update(self, p, g, s):
        b1, b2, t = self.config["beta_1"], self.config["beta_2"], self.iterations
        m, v = s["m"], s["v"]
        # the same operations in the same order as m += (1 - b1) * (g - m) etc. (so the same bits), written
        # into two reused buffers: no temporaries allocated per step (the trainer's flat buffer is one array)
        t1, t2 = scratch_pair(self, p)
        np.subtract(g, m, out=t1)
        t1 *= 1 - b1
        m += t1                                   # m += (1 - b1) * (g - m)
        np.multiply(g, g, out=t1)
        t1 -= v
        t1 *= 1 - b2
        v += t1                                   # v += (1 - b2) * (g * g - v)
        alpha = self.learning_rate * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        np.sqrt(v, out=t1)
        t1 += p.dtype.type(self.config["epsilon"])
        np.multiply(m, p.dtype.type(alpha), out=t2)
        t2 /= t1
        p -= t2                                   # p -= alpha * m / (sqrt(v) + epsilon)


def scratch_pair(optimizer: Optimizer, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two work arrays shaped like `p`, kept on the optimizer (not in `state`: they are not saved); one pair per
    thread, as the batch split's threads update ranges of one vector at once."""
    buffers = optimizer.__dict__.setdefault("_scratch", {})
    key = (p.shape, p.dtype.str, threading.get_ident())
    pair = buffers.get(key)
    if pair is None:
        pair = buffers[key] = (np.empty_like(p), np.empty_like(p))
    return pair


@OPTIMIZERS.register("adadelta",
                     doc=("RMSprop whose step is scaled by a running average of past updates; learning rate 1.0 "
                          "as in Zeiler's paper and the lecture (Keras' 0.001 makes it crawl)"),
                     params=[lr_param(1.0),
                             Param("rho", "float", 0.95, 0, 1), EPSILON] + CLIPPING)
class Adadelta(Optimizer):
    slots = {"accumulated_grad": 0.0, "accumulated_delta": 0.0}

    def update(self, p, g, s):
        rho, eps = p.dtype.type(self.config["rho"]), p.dtype.type(self.config["epsilon"])
        acc_g, acc_d = s["accumulated_grad"], s["accumulated_delta"]
        acc_g *= rho
        acc_g += (1 - rho) * g * g
        delta = np.sqrt(acc_d + eps) / np.sqrt(acc_g + eps) * g
        acc_d *= rho
        acc_d += (1 - rho) * delta * delta
        p -= p.dtype.type(self.learning_rate) * delta


def make_optimizer(spec: dict, path: str = "training.optimizer") -> Optimizer:
    return OPTIMIZERS.build(spec, path)
