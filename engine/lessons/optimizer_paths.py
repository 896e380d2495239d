"""Optimizer paths on a 2-D surface: the engine's own optimizer classes step a 2-parameter "model".

The model is the params dict {"p": array([x, y])}; its gradient comes from the surface. Nothing here
updates a point itself: every step is `optimizer.step(params, grads)` from engine.optimizers.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import Problem, SpecError
from ..optimizers import OPTIMIZERS, make_optimizer
from ..params import Param
from .options import request_options
from .surfaces import SURFACES, grid

DIVERGED_BOX = 1e6          # a point beyond this (or non-finite) has left any surface for good
MAX_OPTIMIZERS = 12
PATH_OPTIONS = [Param("steps", "int", 300, 1, 2000, help="optimizer steps per path"),
                Param("resolution", "int", 80, 8, 200, help="grid points per side of the surface map")]
PHASE_OPTIONS = [Param("steps", "int", 300, 1, 2000, help="steps each cell may take to converge"),
                 Param("tolerance", "float", 1e-4, 0, 1, min_exclusive=True,
                       help="converged when the loss is this close to the minimum"),
                 Param("lr_min", "float", None, 0, 100, min_exclusive=True, nullable=True,
                       help="default: the surface's learning_rates"),
                 Param("lr_max", "float", None, 0, 100, min_exclusive=True, nullable=True,
                       help="default: the surface's learning_rates"),
                 Param("lr_count", "int", 20, 2, 40, help="learning rates, log-spaced"),
                 Param("momentum_min", "float", 0.0, 0, 1),
                 Param("momentum_max", "float", 0.99, 0, 1),
                 Param("momentum_count", "int", 20, 2, 40, help="momentum values, evenly spaced")]


def resolve_surface(spec: object, path: str = "surface"):
    """{"name": "rosenbrock"} or {"expression": "x**2 + 10*y**2"} -> a surface (value, gradient, facts)."""
    if not isinstance(spec, dict):
        raise SpecError('must be {"name": ...} or {"expression": ...}', path)
    if "expression" in spec:
        from .expression_surface import expression_surface   # needs the backprop lesson's safe parser
        return expression_surface(spec, path)
    unknown = sorted(set(spec) - {"name"})
    if unknown:
        raise SpecError(f"unknown option {unknown[0]!r}; a named surface takes only name", f"{path}.{unknown[0]}")
    return SURFACES.get(spec.get("name"), f"{path}.name")


def surface_public(surface, resolution: int) -> dict:
    return {"name": surface.name, "domain": surface.domain, "minimum": surface.minimum,
            "start": surface.start, "doc": surface.doc, "grid": grid(surface, resolution)}


def check_start(start: object, path: str = "start") -> np.ndarray:
    ok = (isinstance(start, (list, tuple)) and len(start) == 2
          and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in start))
    if not ok:
        raise SpecError("must be [x, y]: two finite numbers", path)
    return np.array(start, dtype=np.float64)


def _alive_gradient(surface, xy: np.ndarray, alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(K,) gradients at the alive rows of xy (K, 2); a row the surface cannot evaluate is marked dead."""
    idx = np.flatnonzero(alive)
    try:
        gx, gy = surface.gradient(xy[idx, 0], xy[idx, 1])
        return idx, np.stack([np.broadcast_to(gx, idx.shape), np.broadcast_to(gy, idx.shape)], axis=1)
    except SpecError:  # an expression undefined at one of the points (log of a negative...): try one by one
        keep, rows = [], []
        for i in idx:
            try:
                gx, gy = surface.gradient(xy[i:i + 1, 0], xy[i:i + 1, 1])
                keep.append(i)
                rows.append([float(np.ravel(gx)[0]), float(np.ravel(gy)[0])])
            except SpecError:
                alive[i] = False
        return np.array(keep, dtype=int), np.array(rows, dtype=np.float64).reshape(-1, 2)


def run_paths(surface, optimizer_specs: list, start: np.ndarray, steps: int) -> list[dict]:
    """Every optimizer from `start`, in lockstep (one vectorised gradient call per step for all of them).

    Each path: {"optimizer": normalised spec, "points" [steps + 1, 2], "losses" [steps + 1], "diverged_at"}.
    A path that leaves the box or turns non-finite at step k stops there: points and losses keep
    steps 0..k-1 (all finite) and diverged_at = k.
    """
    optimizers = [make_optimizer(spec, f"optimizers.{i}") for i, spec in enumerate(optimizer_specs)]
    params = [{"p": start.copy()} for _ in optimizers]          # each (2,): a whole "model"
    n = len(optimizers)
    xy = np.tile(start, (n, 1))                                   # (P, 2) current points
    trail = np.full((steps + 1, n, 2), np.nan)                   # (T, P, 2)
    trail[0] = xy
    alive = np.ones(n, dtype=bool)
    diverged_at: list[int | None] = [None] * n
    for k in range(1, steps + 1):
        was_alive = alive.copy()
        idx, g = _alive_gradient(surface, xy, alive)
        for row, i in enumerate(idx):
            optimizers[i].step(params[i], {"p": g[row].copy()})
            xy[i] = params[i]["p"]
        inside = np.all(np.abs(xy) < DIVERGED_BOX, axis=1)       # false for nan too
        alive &= inside
        for i in np.flatnonzero(was_alive & ~alive):
            diverged_at[i] = k
        trail[k, alive] = xy[alive]
        if not alive.any():
            break
    with np.errstate(over="ignore", invalid="ignore"):
        losses = _values(surface, trail)                          # (T, P)
    paths = []
    for i, spec in enumerate(optimizer_specs):
        end = diverged_at[i] if diverged_at[i] is not None else steps + 1
        finite = np.isfinite(losses[:end, i])
        if not finite.all():                  # a finite point whose loss overflows: diverged there
            end = diverged_at[i] = int(np.argmin(finite))
        paths.append({"optimizer": OPTIMIZERS.normalize(spec, f"optimizers.{i}"),
                      "points": trail[:end, i].tolist(), "losses": losses[:end, i].tolist(),
                      "diverged_at": diverged_at[i]})
    return paths


def _values(surface, trail: np.ndarray) -> np.ndarray:
    """f at every point of (T, P, 2) -> (T, P); nan where a point is missing or f cannot be evaluated."""
    out = np.full(trail.shape[:2], np.nan)
    ok = np.all(np.isfinite(trail), axis=2)
    if ok.any():
        try:
            out[ok] = surface.value(trail[..., 0][ok], trail[..., 1][ok])
        except SpecError:  # an expression undefined at some point (where its path ended): point by point
            for t, i in zip(*np.nonzero(ok)):
                try:
                    out[t, i] = np.ravel(surface.value(trail[t, i, :1], trail[t, i, 1:]))[0]
                except SpecError:
                    pass
    return out


def optimizer_paths(request: dict) -> dict:
    """POST /api/lessons/optimizers: the surface (grid for the map) and one path per optimizer."""
    options = request_options(PATH_OPTIONS, request, ("surface", "start", "optimizers"))
    surface = resolve_surface(request.get("surface", {"name": "rosenbrock"}))
    start = check_start(request["start"]) if request.get("start") is not None else np.array(surface.start, float)
    specs = request.get("optimizers")
    if not isinstance(specs, list) or not 1 <= len(specs) <= MAX_OPTIMIZERS:
        raise SpecError(f"must be a list of 1 to {MAX_OPTIMIZERS} optimizers", "optimizers")
    problems = []
    for i, spec in enumerate(specs):   # every bad option at once, each at its own path
        try:
            OPTIMIZERS.normalize(spec, f"optimizers.{i}")
        except SpecError as e:
            problems.extend(e.problems)
    if problems:
        raise SpecError(problems)
    paths = run_paths(surface, specs, start, options["steps"])
    return {"surface": surface_public(surface, options["resolution"]), "paths": paths}


def _phase_axes(o: dict) -> tuple[np.ndarray, np.ndarray]:
    if o["lr_min"] >= o["lr_max"] or o["momentum_min"] >= o["momentum_max"]:
        raise SpecError("each axis needs min < max", "lr_min" if o["lr_min"] >= o["lr_max"] else "momentum_min")
    lrs = np.geomspace(o["lr_min"], o["lr_max"], o["lr_count"])                              # (L,)
    momentums = np.linspace(o["momentum_min"], o["momentum_max"], o["momentum_count"])       # (M,)
    return lrs, momentums


def momentum_phase(request: dict) -> dict:
    """POST /api/lessons/optimizers/phase: steps to converge for each (momentum, learning rate) cell.

    One engine SGD per momentum value steps all learning rates at once: params {"p": (L, 2)} with
    learning_rate 1 and gradients scaled by each row's rate. SGD's update (v <- m v - lr g; p <- p + v)
    is linear in lr * g, so row i follows exactly the path of SGD(learning_rate=lrs[i], momentum=m).
    Returns {"surface", "start", "learning_rates" [L], "momentums" [M], "converged_at" [M][L] step | null,
    "diverged_at" [M][L] step | null, "tolerance", "steps"}.
    """
    o = request_options(PHASE_OPTIONS, request, ("surface", "start"))
    surface = resolve_surface(request.get("surface", {"name": "ravine"}))
    if not surface.minimum:
        raise SpecError(f"{surface.name} has no minimum to converge to", "surface")
    best = min(float(surface.value(*m)) for m in surface.minimum)
    start = check_start(request["start"]) if request.get("start") is not None else np.array(surface.start, float)
    lo, hi = getattr(surface, "learning_rates", [0.01, 1.0])
    o = {**o, "lr_min": o["lr_min"] or lo, "lr_max": o["lr_max"] or hi}
    lrs, momentums = _phase_axes(o)
    converged = np.full((len(momentums), len(lrs)), -1)
    diverged = np.full((len(momentums), len(lrs)), -1)
    for i, m in enumerate(momentums):
        sgd = make_optimizer({"name": "sgd", "learning_rate": 1.0, "momentum": float(m)})
        params = {"p": np.tile(start, (len(lrs), 1))}                                  # (L, 2)
        with np.errstate(over="ignore", invalid="ignore"):
            for k in range(1, o["steps"] + 1):
                gx, gy = surface.gradient(params["p"][:, 0], params["p"][:, 1])      # (L,), (L,)
                sgd.step(params, {"p": lrs[:, None] * np.stack([gx, gy], axis=1)})
                p = params["p"]
                gone = ~np.all(np.abs(p) < DIVERGED_BOX, axis=1) & (diverged[i] < 0)
                diverged[i][gone] = k
                loss = surface.value(p[:, 0], p[:, 1])
                done = (loss - best < o["tolerance"]) & (converged[i] < 0) & (diverged[i] < 0)
                converged[i][done] = k
                if np.all((converged[i] >= 0) | (diverged[i] >= 0)):
                    break
    as_list = lambda a: [[int(v) if v >= 0 else None for v in row] for row in a]   # noqa: E731
    return {"surface": surface.name, "start": start.tolist(), "learning_rates": lrs.tolist(),
            "momentums": momentums.tolist(), "converged_at": as_list(converged), "diverged_at": as_list(diverged),
            "tolerance": o["tolerance"], "steps": o["steps"]}


# the lectures' figures as ready-made requests; the page lists them and posts `request` as is
PRESETS = {
    "comparison": {
        "doc": "the lectures' comparison: all seven optimizers race from the same start on Rosenbrock's banana",
        "request": {"surface": {"name": "rosenbrock"}, "start": [-1.2, 1.0], "steps": 300, "optimizers": [
            {"name": "sgd", "learning_rate": 0.001},
            {"name": "sgd", "learning_rate": 0.001, "momentum": 0.9},
            {"name": "sgd", "learning_rate": 0.001, "momentum": 0.9, "nesterov": True},
            {"name": "adagrad", "learning_rate": 1.0},
            {"name": "rmsprop", "learning_rate": 0.01},
            {"name": "adam", "learning_rate": 0.1},
            {"name": "adadelta", "learning_rate": 1.0}]}},
    "terminal_velocity": {
        "doc": ("momentum's terminal velocity: on a constant gradient g the step grows to lr·g/(1 − β), "
                "10× plain SGD's for β = 0.9"),
        "request": {"surface": {"name": "plane"}, "start": [1.6, 1.2], "steps": 300, "optimizers": [
            {"name": "sgd", "learning_rate": 0.001},
            {"name": "sgd", "learning_rate": 0.001, "momentum": 0.5},
            {"name": "sgd", "learning_rate": 0.001, "momentum": 0.9}]}},
    "ravine": {
        "doc": "a ravine, shallow horizontally: SGD zig-zags across, momentum and Adam run along it",
        "request": {"surface": {"name": "ravine"}, "start": [-3.5, 1.5], "steps": 300, "optimizers": [
            {"name": "sgd", "learning_rate": 0.45},
            {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9},
            {"name": "adam", "learning_rate": 0.1}]}},
    "saddle": {
        "doc": "a saddle point: plain SGD lingers on the flat ridge, adaptive methods escape sooner",
        "request": {"surface": {"name": "saddle"}, "start": [-1.8, 0.01], "steps": 200, "optimizers": [
            {"name": "sgd", "learning_rate": 0.01},
            {"name": "sgd", "learning_rate": 0.01, "momentum": 0.9},
            {"name": "rmsprop", "learning_rate": 0.01},
            {"name": "adam", "learning_rate": 0.01}]}},
}


def lesson_catalog() -> dict:
    """GET /api/lessons/optimizers: the surfaces, the presets and every request option with its range."""
    return {"surfaces": SURFACES.describe("domain", "minimum", "start", "learning_rates"),
            "presets": PRESETS,
            "options": [p.to_json() for p in PATH_OPTIONS],
            "phase_options": [p.to_json() for p in PHASE_OPTIONS],
            "max_optimizers": MAX_OPTIMIZERS}
