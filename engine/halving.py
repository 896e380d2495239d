"""Early termination of a sweep's bad trials: EARLY_TERMINATION (successive halving) and the sweep metric.

Successive halving (asynchronous, as in ASHA): rungs at min_epochs, min_epochs * r, min_epochs * r^2, ...
(r = reduction_factor) below the trials' epochs. When a trial reaches a rung, its metric so far (its best
value through that epoch) joins the values recorded there; the trial goes on only if it is among the best
ceil(n / r) of the n values recorded at that rung, else it is stopped. The first trial at a rung always goes
on; with every trial judged at once (a synchronous rung) the same rule keeps the top 1/r.
"""
from __future__ import annotations

import math

from .params import Param
from .registry import Registry

EARLY_TERMINATION = Registry("early termination")
GOALS = ("maximize", "minimize")


def better(a: float, b: float, goal: str) -> bool:
    """a beats b; NaN never beats anything."""
    if a != a:
        return False
    if b != b:
        return True
    return a > b if goal == "maximize" else a < b


def best_so_far(records: list[dict], metric: str, goal: str, through: int | None = None) -> tuple[float, int] | None:
    """(best value, its epoch) of `metric` over epoch records (up to epoch `through`), None when none has it."""
    best = None
    for r in records:
        if through is not None and r["epoch"] > through:
            break
        value = r.get(metric)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            if best is None or better(value, best[0], goal):
                best = (float(value), int(r["epoch"]))
    return best


def rung_cutoff(values: list[float], goal: str, reduction_factor: int) -> float:
    """The value a trial must reach to go on past a rung where `values` were recorded: the k-th best,
    k = ceil(n / reduction_factor) (NaNs count as the worst)."""
    finite = [v for v in values if v == v]
    ranked = sorted(finite, reverse=(goal == "maximize"))
    k = max(1, math.ceil(len(values) / reduction_factor))
    if k > len(ranked):
        return float("nan")  # fewer real values than places: any real value goes on
    return ranked[k - 1]


def keeps(value: float, cutoff: float, goal: str) -> bool:
    """A trial with `value` goes on past a rung with this cutoff (ties go on)."""
    if value != value:
        return False
    return cutoff != cutoff or value == cutoff or better(value, cutoff, goal)


def halving_stops(values: dict, goal: str, reduction_factor: int) -> list:
    """A synchronous rung: the keys of `values` ({trial: metric so far}) that stop, in key order."""
    cutoff = rung_cutoff(list(values.values()), goal, reduction_factor)
    return [key for key, v in values.items() if not keeps(v, cutoff, goal)]


@EARLY_TERMINATION.register("halving", doc="successive halving: at each rung only the best 1/reduction_factor "
                                           "of the trials so far go on",
                            params=[Param("min_epochs", "int", 5, 1, None, help="epochs before the first rung"),
                                    Param("reduction_factor", "int", 3, 2, 10,
                                          help="rungs at min_epochs x r^k; the best 1/r go on at each")])
class Halving:
    def __init__(self, min_epochs: int, reduction_factor: int):
        self.min_epochs, self.reduction_factor = min_epochs, reduction_factor
        self.recorded: dict[int, list[float]] = {}  # rung epoch -> values recorded there

    def rungs(self, epochs: int) -> list[int]:
        """Rung epochs below `epochs` (a trial that has finished is not stopped)."""
        out, rung = [], self.min_epochs
        while rung < epochs:
            out.append(rung)
            rung *= self.reduction_factor
        return out

    def judge(self, rung: int, value: float, goal: str) -> tuple[bool, float]:
        """Record a trial's `value` at `rung`; (goes on, the cutoff it was judged against)."""
        values = self.recorded.setdefault(rung, [])
        values.append(value)
        cutoff = rung_cutoff(values, goal, self.reduction_factor)
        return keeps(value, cutoff, goal), cutoff
