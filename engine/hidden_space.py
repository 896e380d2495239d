"""The hidden space: the data and the input grid's lines as one hidden layer sees them (2-D point data).

A layer of 2 units is drawn in its own coordinates; a wider one in 2 chosen units (`stream.hidden_units`)
or its first two principal directions (of the data points' activations, recomputed each frame; a direction
whose sign flipped since the last frame is flipped back, so the picture does not jump). Watching it while
training shows a network pulling the spiral's arms apart until a straight line separates them.

Frame (docs/DESIGN.md "Trainer events"): {"type": "hidden_space", "epoch", "layer", "axes": "units" | "pca",
"units": [a, b] | null, "n_points", "points": base64 float32 (n_points, 2), "labels": [..] | null,
"lines", "points_per_line", "grid": base64 float32 (lines, points_per_line, 2), "bounds": [[x0, x1], [y0, y1]]}.
"""
from __future__ import annotations

import numpy as np

from .errors import Problem

MAX_POINTS = 500          # data points per frame (the first training points)
GRID_LINES = 11           # lines per direction (x = const and y = const)
POINTS_PER_LINE = 41


def grid_lines(domain) -> np.ndarray:
    """(2 * GRID_LINES, POINTS_PER_LINE, 2) points along vertical then horizontal lines across `domain`."""
    (x0, x1), (y0, y1) = domain
    at_x, at_y = np.linspace(x0, x1, GRID_LINES), np.linspace(y0, y1, GRID_LINES)
    t_x, t_y = np.linspace(x0, x1, POINTS_PER_LINE), np.linspace(y0, y1, POINTS_PER_LINE)
    vertical = np.stack([np.broadcast_to(at_x[:, None], (GRID_LINES, POINTS_PER_LINE)),
                         np.broadcast_to(t_y[None, :], (GRID_LINES, POINTS_PER_LINE))], axis=-1)
    horizontal = np.stack([np.broadcast_to(t_x[None, :], (GRID_LINES, POINTS_PER_LINE)),
                           np.broadcast_to(at_y[:, None], (GRID_LINES, POINTS_PER_LINE))], axis=-1)
    return np.concatenate([vertical, horizontal])


def hidden_space_problems(model_spec: dict, stream: dict, dataset: dict | None) -> list[Problem]:
    """stream.hidden_layer / hidden_units against the network and the data (checked before queueing)."""
    from .model import layer_output_shapes
    layer, units = stream.get("hidden_layer"), stream.get("hidden_units")
    if layer is None:
        return [Problem("stream.hidden_units", "needs stream.hidden_layer")] if units is not None else []
    if dataset is not None and dataset.get("features") is None:
        return [Problem("stream.hidden_layer", "the hidden space is drawn for 2-D point data only")]
    if model_spec.get("type") == "knn":
        return [Problem("stream.hidden_layer", "a knn model has no hidden layers")]
    shapes = layer_output_shapes(model_spec)
    if layer >= len(shapes):
        return [Problem("stream.hidden_layer", f"must be a layer of the model, 0 to {len(shapes) - 1}, got {layer}")]
    shape = shapes[layer]
    if len(shape) != 1 or shape[0] < 2:
        return [Problem("stream.hidden_layer", f"layer {layer} gives outputs of shape {list(shape)}; the hidden "
                                               "space needs a layer of at least 2 units")]
    if units is not None:
        if len(units) != 2 or units[0] == units[1]:
            return [Problem("stream.hidden_units", f"must be two different units, got {units}")]
        if max(units) >= shape[0]:
            return [Problem("stream.hidden_units", f"layer {layer} has units 0 to {shape[0] - 1}, got {units}")]
    return []


class HiddenSpace:
    """Computes hidden_space frames for one run; None-safe constructor `for_run`."""

    def __init__(self, model, dataset, layer: int, units: list[int] | None):
        self.model, self.layer, self.units = model, layer, units
        pts = dataset.points_train[:MAX_POINTS]                                  # (N, 2) raw points
        self.labels = (dataset.y_train[:MAX_POINTS].astype(int).tolist()
                       if dataset.task == "classification" else None)
        lines = grid_lines(dataset.domain)                                       # (L, P, 2)
        self.shape = lines.shape[:2]
        raw = np.concatenate([pts, lines.reshape(-1, 2)])
        self.x = model.pipeline.transform(raw).astype(model.dtype, copy=False)   # points then grid, preprocessed
        self.n_points = len(pts)
        self.directions: np.ndarray | None = None                                # (2, U) last PCA axes

    @classmethod
    def for_run(cls, model, dataset, stream: dict):
        layer = stream.get("hidden_layer")
        if layer is None or dataset.domain is None or dataset.points_train is None or not model.layers:
            return None
        return cls(model, dataset, layer, stream.get("hidden_units"))

    def _coordinates(self, acts: np.ndarray) -> tuple[np.ndarray, str]:
        if acts.shape[1] == 2:
            return acts, "units"
        if self.units is not None:
            return acts[:, self.units], "units"
        data = acts[:self.n_points]
        mean = data.mean(axis=0)                                                  # (U,)
        _, _, vt = np.linalg.svd(data - mean, full_matrices=False)                # vt (U', U)
        d = vt[:2] if len(vt) >= 2 else np.vstack([vt, np.zeros_like(vt)])[:2]
        if self.directions is not None:          # keep each axis pointing the way it pointed last frame
            d = d * np.where((d * self.directions).sum(axis=1, keepdims=True) < 0, -1.0, 1.0)
        self.directions = d
        return (acts - mean) @ d.T, "pca"                                         # (N, 2)

    def frame(self, epoch: int) -> dict:
        from .probes import b64
        a = self.x
        for lay in self.model.layers[:self.layer + 1]:
            a = lay.forward(a, training=False)
        xy, axes = self._coordinates(a.reshape(len(a), -1).astype(np.float64))
        xy = np.nan_to_num(xy, nan=0.0, posinf=1e6, neginf=-1e6).astype(np.float32)
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        return {"type": "hidden_space", "epoch": epoch, "layer": self.layer, "axes": axes,
                "units": [0, 1] if a.shape[1] == 2 else (self.units if axes == "units" else None),
                "n_points": self.n_points, "points": b64(xy[:self.n_points]), "labels": self.labels,
                "lines": int(self.shape[0]), "points_per_line": int(self.shape[1]), "grid": b64(xy[self.n_points:]),
                "bounds": [[float(lo[0]), float(hi[0])], [float(lo[1]), float(hi[1])]]}
