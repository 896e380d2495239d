"""What a sweep varies and how trials are drawn: DISTRIBUTIONS (log_uniform, uniform, int_uniform), a
`{"values": [...]}` list, and METHODS (random, grid).

Random search draws each setting on its own from a seeded np.random.Generator (one vectorised draw of
n_trials values per setting), log_uniform as the lectures teach: 10^U(log10 min, log10 max). Grid search
lays k points on each range (log-spaced for log_uniform) and takes the cartesian product.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from .errors import SpecError
from .params import Param
from .registry import Registry

DISTRIBUTIONS = Registry("distribution", key="distribution")
METHODS = Registry("sweep method")
SIGNIFICANT = 4   # drawn floats keep 4 significant digits: readable in tables and links, still dense


def _round(values: np.ndarray, lo: float, hi: float) -> list[float]:
    """(n,) floats to SIGNIFICANT digits, kept inside [lo, hi] (rounding must not leave the range)."""
    return [min(hi, max(lo, float(f"{v:.{SIGNIFICANT}g}"))) for v in values]


class Range:
    """A numeric range [min, max]; subclasses say how it is sampled and gridded."""
    scale = "linear"
    integer = False

    def __init__(self, min: float, max: float):
        self.min, self.max = min, max

    def check(self, path: str) -> None:
        if not self.min < self.max:
            raise SpecError(f"must be greater than min ({self.min}), got {self.max}", f"{path}.max")

    def to(self, u: np.ndarray) -> np.ndarray:
        """Map u in [0, 1] onto the range in its own scale."""
        return self.min + u * (self.max - self.min)

    def values(self, raw: np.ndarray) -> list:
        return _round(raw, self.min, self.max)

    def sample(self, rng: np.random.Generator, n: int) -> list:
        return self.values(self.to(rng.uniform(0.0, 1.0, n)))

    def grid(self, k: int) -> list:
        """k points from min to max (one point: the middle), in the range's scale."""
        return self.values(self.to(np.linspace(0.0, 1.0, k) if k > 1 else np.array([0.5])))

    def narrowed(self, best: float, factor: float) -> dict:
        """A range `factor` times as wide (in its scale) around `best`, inside this one."""
        lo, hi = self._scaled(self.min), self._scaled(self.max)
        width = (hi - lo) * factor
        start = min(max(self._scaled(best) - width / 2, lo), hi - width)
        new_lo, new_hi = self._unscaled(start), self._unscaled(start + width)
        if self.integer:
            new_lo, new_hi = math.floor(new_lo), math.ceil(new_hi)
            if new_hi <= new_lo:
                new_hi = new_lo + 1
        else:
            new_lo, new_hi = _round(np.array([new_lo, new_hi]), self.min, self.max)
        return {"distribution": self.name, "min": new_lo, "max": new_hi}

    def _scaled(self, v: float) -> float:
        return v

    def _unscaled(self, v: float) -> float:
        return v


def _range_params(kind: str, positive: bool = False) -> list[Param]:
    return [Param("min", kind, None, 0 if positive else None, None, min_exclusive=positive,
                  help="smallest value" + (" (> 0: a log scale)" if positive else "")),
            Param("max", kind, None, help="largest value")]


@DISTRIBUTIONS.register("log_uniform", doc="10^U(log10 min, log10 max): every decade as likely (rates, penalties)",
                        params=_range_params("float", positive=True))
class LogUniform(Range):
    scale = "log"

    def to(self, u: np.ndarray) -> np.ndarray:
        lo, hi = math.log10(self.min), math.log10(self.max)
        return 10.0 ** (lo + u * (hi - lo))

    def _scaled(self, v: float) -> float:
        return math.log10(v)

    def _unscaled(self, v: float) -> float:
        return 10.0 ** v


@DISTRIBUTIONS.register("uniform", doc="U(min, max): every value in the range as likely",
                        params=_range_params("float"))
class Uniform(Range):
    pass


@DISTRIBUTIONS.register("int_uniform", doc="a whole number from min to max, each as likely (units, batch size)",
                        params=_range_params("int"))
class IntUniform(Range):
    integer = True

    def values(self, raw: np.ndarray) -> list:
        return [int(v) for v in np.clip(np.rint(raw), self.min, self.max)]

    def sample(self, rng: np.random.Generator, n: int) -> list:
        return [int(v) for v in rng.integers(self.min, self.max + 1, n)]

    def grid(self, k: int) -> list:
        return list(dict.fromkeys(super().grid(k)))  # whole numbers: close points may coincide


class Values:
    """{"values": [...]}: one of the listed values (JSON numbers, strings, booleans)."""
    name = "values"
    scale = "categorical"
    integer = False

    def __init__(self, values: list):
        self.values_list = list(values)

    def check(self, path: str, max_values: int) -> None:
        given = self.values_list
        if not given:
            raise SpecError("must list at least one value", f"{path}.values")
        if len(given) > max_values:
            raise SpecError(f"at most {max_values} values (max_sweep_values), got {len(given)}", f"{path}.values")
        for i, v in enumerate(given):
            if not isinstance(v, (bool, int, float, str)) or (isinstance(v, float) and not math.isfinite(v)):
                raise SpecError(f"must be a number, a string or a boolean, got {v!r}", f"{path}.values.{i}")

    def sample(self, rng: np.random.Generator, n: int) -> list:
        return [self.values_list[i] for i in rng.integers(0, len(self.values_list), n)]

    def grid(self, k: int) -> list:
        return list(self.values_list)


def grid_points(parameters: dict, n_trials: int) -> int:
    """Points per range in a grid: k = floor((n_trials / listed combinations) ** (1 / ranges)), at least 1,
    so the product stays within n_trials (9 trials, 2 ranges: a 3 x 3 grid)."""
    ranges = [d for d in parameters.values() if not isinstance(d, Values)]
    combos = math.prod(len(d.values_list) for d in parameters.values() if isinstance(d, Values))
    if not ranges:
        return 1
    return max(1, int(math.floor((n_trials / combos) ** (1 / len(ranges)) + 1e-9)))


@METHODS.register("random", doc="each trial draws every setting on its own (seeded): random beats grid")
def random_trials(parameters: dict, n_trials: int, seed: int) -> list[dict]:
    """n_trials dicts {path: value}; settings are drawn in sorted path order, so the order they were given in
    does not change the draw."""
    rng = np.random.default_rng(seed)
    columns = {path: parameters[path].sample(rng, n_trials) for path in sorted(parameters)}
    return [{path: col[i] for path, col in columns.items()} for i in range(n_trials)]


@METHODS.register("grid", doc="the cartesian product of k points per range and every listed value, "
                              "capped at n_trials")
def grid_trials(parameters: dict, n_trials: int, seed: int) -> list[dict]:
    k = grid_points(parameters, n_trials)
    paths = sorted(parameters)
    axes = [parameters[p].grid(k) for p in paths]
    return [dict(zip(paths, combo)) for combo in itertools.islice(itertools.product(*axes), n_trials)]


def make_distribution(spec: object, path: str, max_values: int):
    """{"distribution": name, "min", "max"} or {"values": [...]} -> a checked Range or Values."""
    if not isinstance(spec, dict):
        raise SpecError('must be {"distribution": ..., "min": ..., "max": ...} or {"values": [...]}', path)
    if "values" in spec:
        extra = sorted(set(spec) - {"values"})
        if extra:
            raise SpecError(f"a values list takes no other keys, got {', '.join(extra)}", f"{path}.{extra[0]}")
        if not isinstance(spec["values"], list):
            raise SpecError("must be a list", f"{path}.values")
        dist = Values(spec["values"])
        dist.check(path, max_values)
        return dist
    if "distribution" not in spec:
        raise SpecError(f'needs "distribution" (one of {", ".join(DISTRIBUTIONS.names())}) or "values"',
                        f"{path}.distribution")
    dist = DISTRIBUTIONS.build(spec, path)
    dist.check(path)
    return dist


def describe(dist) -> dict:
    """The JSON form of a checked distribution (what a normalized sweep stores)."""
    if isinstance(dist, Values):
        return {"values": list(dist.values_list)}
    return {"distribution": dist.name, "min": dist.min, "max": dist.max}
