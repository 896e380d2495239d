"""What the UI watches while a network trains: decision boundary, per-neuron maps, weight and
gradient histograms, gradient norms. Every frame is a JSON-ready dict (see docs/DESIGN.md)."""
from __future__ import annotations

import base64
import json
import time

import numpy as np

from .saturation import OUTPUT_RANGE, activation_name, saturation, uniform_counts

NEURON_LAYER_TYPES = ("dense", "maxout", "activation")
MAX_NEURONS_PER_LAYER = 64
ACTIVATION_ROWS = 64                    # the fixed training batch whose layer outputs each histograms frame shows,
ACTIVATION_VALUES = 8192                # fewer rows for wide inputs (MNIST: 10 images; a CNN forward is costly)
SAME_AS_INPUT = ("flatten", "dropout")  # outputs that repeat the layer before them (dropout at inference)
# beside a boundary, the histograms and gradient norms go with every 2nd set of frames (and every forced one):
# they are the side panels, the boundary is what a class watches, and they were half of a set's CPU and two
# of its three socket messages
HISTOGRAMS_EVERY = 2


def b64(arr: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(arr).tobytes()).decode("ascii")


def _dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Frame(dict):
    """A frame: a plain JSON-ready dict that can also write its own JSON text, `json_text()`, faster than
    json.dumps. Its lists in `fixed` (id -> (list, text)) are the same for the whole run (the histograms' bin
    edges), so their text is made once: the repr of those floats was ~60% of encoding a histograms frame.
    The fixed lists are shared by every frame of the run: read them, never change them. A copy or a pickle is
    a plain dict."""

    __slots__ = ("fixed",)

    def __init__(self, values: dict, fixed: dict[int, tuple[list, str]]):
        super().__init__(values)
        self.fixed = fixed

    def __reduce__(self):
        return dict, (dict(self),)

    def _row_text(self, row: dict) -> str:
        fixed = self.fixed
        keys = [k for k, v in row.items() if id(v) in fixed and fixed[id(v)][0] is v]
        if not keys:
            return _dumps(row)
        head = _dumps({k: v for k, v in row.items() if k not in keys})[:-1]
        tail = "".join(f',"{k}":{fixed[id(row[k])][1]}' for k in keys)
        return head + (tail[1:] if head == "{" else tail) + "}"

    def json_text(self) -> str:
        """The same JSON as json.dumps(self) (keys of a row may come in another order)."""
        nested = [k for k in ("layers", "activations") if isinstance(self.get(k), list)]
        head = _dumps({k: v for k, v in self.items() if k not in nested})[:-1]
        tail = "".join(f',"{k}":[' + ",".join(self._row_text(r) for r in self[k]) + "]" for k in nested)
        return head + (tail[1:] if head == "{" else tail) + "}"


def grid_points(domain, resolution: int) -> np.ndarray:
    """(R*R, 2) cell centres; row 0 is the top (y = ymax), column 0 the left (x = xmin)."""
    (x0, x1), (y0, y1) = domain
    dx, dy = (x1 - x0) / resolution, (y1 - y0) / resolution
    xs = np.linspace(x0 + dx / 2, x1 - dx / 2, resolution)
    ys = np.linspace(y1 - dy / 2, y0 + dy / 2, resolution)
    gx, gy = np.meshgrid(xs, ys)                       # (R, R) each
    return np.column_stack([gx.ravel(), gy.ravel()])


def _stats(prefix: str, a: np.ndarray) -> dict:
    return {f"{prefix}min": float(a.min()), f"{prefix}max": float(a.max()),
            f"{prefix}mean": float(a.mean()), f"{prefix}std": float(a.std())}


def segment_stats(flat: np.ndarray, starts: np.ndarray, sizes: np.ndarray, prefix: str = "") -> list[dict]:
    """min / max / mean / std of every segment flat[starts[i]:starts[i] + sizes[i]] of a (P,) vector in eight
    NumPy calls, whatever the number of segments (a model's packed parameters: one segment per array)."""
    f = flat.astype(np.float64)                                            # (P,)
    lo, hi = np.minimum.reduceat(f, starts), np.maximum.reduceat(f, starts)
    mean = np.add.reduceat(f, starts) / sizes                              # (S,)
    d = f - np.repeat(mean, sizes)                                         # two passes: as exact as ndarray.std
    std = np.sqrt(np.add.reduceat(d * d, starts) / sizes)
    return [{f"{prefix}min": a, f"{prefix}max": b, f"{prefix}mean": c, f"{prefix}std": e}
            for a, b, c, e in zip(lo.tolist(), hi.tolist(), mean.tolist(), std.tolist())]


class Probes:
    def __init__(self, model, dataset, stream: dict):
        self.model, self.stream = model, stream
        self.min_interval = 1.0 / stream["max_fps"]
        self.next_due = -np.inf   # when the next set of frames is due (perf_counter seconds)
        self.sets = 0             # sets sent since the last one with histograms (HISTOGRAMS_EVERY)
        self.task = dataset.task
        can_draw = dataset.domain is not None and dataset.features is not None and model.pipeline.features
        self.domain = dataset.domain if (can_draw and stream["boundary"]) else None
        if self.domain is not None:
            self.grid = model.pipeline.transform(grid_points(self.domain, stream["resolution"]))
            self.neuron_grid = model.pipeline.transform(grid_points(self.domain, stream["neuron_resolution"]))
        self.edges: dict[str, np.ndarray] = {}
        self.grad_edges: dict[str, np.ndarray] = {}
        self.act_edges: dict[str, np.ndarray] = {}
        self.fixed: dict[int, tuple[list, str]] = {}   # id(edges list) -> (the list, its JSON): Frame.json_text
        self._edge_lists: dict[int, list] = {}          # id(edges array) -> its list, made once per run
        # the first training rows, preprocessed as the trainer feeds them (the pipeline is fitted by now)
        x = getattr(dataset, "x_train", None)
        rows = max(4, min(ACTIVATION_ROWS, ACTIVATION_VALUES // max(1, int(np.prod(x.shape[1:]))))) if x is not None else 0
        self.batch = (None if x is None or not len(x) else
                      model.pipeline.preprocess(x[:rows]).astype(model.dtype, copy=False))
        y = getattr(dataset, "y_train", None)
        self.batch_y = None if self.batch is None or y is None else y[:rows]
        # recurrent layers (engine/layers/recurrent.py) keep dL/dh_t after backward: the time_gradients frame
        self.recurrent = [i for i, layer in enumerate(model.layers) if hasattr(layer, "time_gradient_norms")]
        from .hidden_space import HiddenSpace
        self.hidden = HiddenSpace.for_run(model, dataset, stream)   # stream.hidden_layer set: hidden_space frames

    def emit(self, emit, epoch: int, force: bool = False) -> None:
        """Send the frames, at most `max_fps` per second unless forced (first and last epoch); beside a
        boundary, the histograms and gradient norms with every HISTOGRAMS_EVERY-th set and every forced one.

        The frames keep a schedule of one set every 1/max_fps s, not a gap of at least 1/max_fps after the last
        set: epochs of 33 ms at max_fps 12 then give 12 sets a second (a set every 2 or 3 epochs), not 10
        (every 3rd). A set more than one interval late restarts the schedule from now."""
        now = time.perf_counter()
        if not force and now < self.next_due:
            return
        late = now - self.next_due
        self.next_due = (self.next_due if late < self.min_interval else now) + self.min_interval
        if self.domain is not None:
            emit(self.boundary(epoch))
        if self.hidden is not None:
            emit(self.hidden.frame(epoch))
        self.sets += 1
        if self.stream["histograms"] and (force or self.domain is None or self.sets >= HISTOGRAMS_EVERY):
            self.sets = 0
            emit(self.histograms(epoch))
            emit(self.gradient_norms(epoch))
        if self.recurrent and self.stream.get("time_gradients", True) and self.batch_y is not None:
            emit(self.time_gradients(epoch))

    def boundary(self, epoch: int) -> dict:
        res = self.stream["resolution"]
        out = self.model.forward_batched(self.grid.astype(self.model.dtype))
        frame = {"type": "boundary", "epoch": epoch, "resolution": res, "domain": self.domain, "task": self.task}
        if self.task == "classification":
            probs = self.model.loss.probabilities(out)                         # (R*R, K>=2)
            frame.update(n_outputs=probs.shape[1], encoding="uint8",
                         probabilities=b64(np.rint(probs * 255).astype(np.uint8)))   # (R, R, K)
        else:
            values = out[:, 0]
            frame.update(n_outputs=1, encoding="float16", values=b64(values.astype(np.float16)),
                         min=float(values.min()), max=float(values.max()))
        frame["neurons"] = self.neuron_maps()
        return frame

    def neuron_maps(self) -> list[dict]:
        """Each hidden unit's output over a small grid, min-max scaled to 0..255 per unit."""
        r = self.stream["neuron_resolution"]
        self.model.forward(self.neuron_grid.astype(self.model.dtype), training=False)
        maps = []
        for i, layer in enumerate(self.model.layers[:-1]):
            if layer.name not in NEURON_LAYER_TYPES or len(layer.output_shape) != 1:
                continue
            acts = layer.out[:, :MAX_NEURONS_PER_LAYER].astype(np.float64)     # (r*r, units)
            lo, hi = acts.min(axis=0), acts.max(axis=0)
            scaled = (acts - lo) / np.where(hi > lo, hi - lo, 1.0)
            data = np.rint(scaled.T * 255).astype(np.uint8).reshape(-1, r, r)   # (units, r, r)
            maps.append({"layer": i, "units": int(data.shape[0]), "resolution": r, "data": b64(data),
                         "min": lo.tolist(), "max": hi.tolist()})
        return maps

    def _edges(self, store: dict, key: str, values: np.ndarray, headroom: float, floor: float = 0.0) -> np.ndarray | None:
        """Bin edges fixed per key for the whole run, chosen the first time values are non-zero.

        Weights usually grow while training, so their range gets headroom (and at least +-1);
        values beyond the edges are counted in the end bins (and min/max tell how far they went).
        """
        if key not in store:
            lim = float(np.abs(values).max()) * headroom
            if lim == 0:
                return None
            lim = max(lim, floor)
            store[key] = np.linspace(-lim, lim, self.stream["bins"] + 1)
        return store[key]

    def _as_list(self, edges: np.ndarray) -> list:
        """The run's fixed edges as one list object, made (and JSON-encoded) once."""
        got = self._edge_lists.get(id(edges))
        if got is None:
            got = self._edge_lists[id(edges)] = edges.tolist()
            self.fixed[id(got)] = (got, _dumps(got))
        return got

    def _all_stats(self, grads: dict) -> tuple[dict, dict]:
        """{key: weight stats}, {key: gradient stats}: one vectorised pass over the packed buffers when the
        trainer packed the parameters (engine/flat.py), else per array."""
        flat = self.model.flat
        if flat is None or not flat.keys:
            return ({k: _stats("", w) for k, w in self.model.params.items()},
                    {k: _stats("grad_", g) for k, g in grads.items()})
        starts = np.array([flat.slices[k].start for k in flat.keys])
        sizes = np.array([flat.slices[k].stop - flat.slices[k].start for k in flat.keys])
        return (dict(zip(flat.keys, segment_stats(flat.params, starts, sizes))),
                dict(zip(flat.keys, segment_stats(flat.grads, starts, sizes, "grad_"))))

    def histograms(self, epoch: int) -> dict:
        grads, layers = self.model.grads, []
        stats, grad_stats = self._all_stats(grads)
        for key, w in self.model.params.items():
            layer_key = key.rsplit(".", 1)[0] + ".W"   # biases share their layer's kernel range
            edges = self._edges(self.edges, layer_key, self.model.params.get(layer_key, w), 3.0, 1.0)
            edges = edges if edges is not None else self._edges(self.edges, key, w, 3.0, 1.0)
            row = {"key": key, **stats[key]}
            if edges is not None:   # below / above: values past the fixed edges (also counted in the end bins)
                row.update(edges=self._as_list(edges), counts=uniform_counts(w, edges).tolist(),
                           below=int((w < edges[0]).sum()), above=int((w > edges[-1]).sum()))
            g = grads.get(key)
            g_edges = None if g is None else self._edges(self.grad_edges, key, g, 3.0)
            if g_edges is not None:
                row.update(grad_edges=self._as_list(g_edges),
                           grad_counts=uniform_counts(g, g_edges).tolist(),
                           grad_below=int((g < g_edges[0]).sum()), grad_above=int((g > g_edges[-1]).sum()),
                           **grad_stats[key])
            layers.append(row)
        frame = {"type": "histograms", "epoch": epoch, "layers": layers}
        if self.batch is not None:
            frame["activations"] = self.activations()
        return Frame(frame, self.fixed)

    def activations(self) -> list[dict]:
        """Each layer's outputs on the fixed training batch: stats, saturated / dead, and a histogram on edges
        fixed per layer (a bounded activation's whole range, else chosen like the weights'); `below` / `above`
        count the values beyond the edges (also in the end bins)."""
        self.model.forward(self.batch, training=False)
        rows = []
        for i, layer in enumerate(self.model.layers):
            if layer.name in SAME_AS_INPUT:
                continue
            a, name = layer.out, activation_name(layer)                    # (B, ...) outputs
            if name in OUTPUT_RANGE and str(i) not in self.act_edges:
                self.act_edges[str(i)] = np.linspace(*OUTPUT_RANGE[name], self.stream["bins"] + 1)
            edges = self._edges(self.act_edges, str(i), a, 2.0)
            row = {"layer": i, "type": layer.name, "activation": name, **_stats("", a), **saturation(a, name)}
            if edges is not None:
                row.update(edges=self._as_list(edges), counts=uniform_counts(a, edges).tolist(),
                           below=int((a < edges[0]).sum()), above=int((a > edges[-1]).sum()))
            rows.append(row)
        return rows

    def gradient_norms(self, epoch: int) -> dict:
        return {"type": "gradients", "epoch": epoch,
                "norms": {k: float(np.sqrt((g.astype(np.float64) ** 2).sum())) for k, g in self.model.grads.items()}}

    def time_gradients(self, epoch: int) -> dict:
        """||dL/dh_t|| for t = 1..T per recurrent layer, on the fixed training batch, forward at inference.

        The model's gradients (what the histograms and gradient norms show) are put back afterwards."""
        grads = self.model.grads
        saved = {k: g.copy() for k, g in grads.items()}
        self.model.loss_and_backward(self.batch, self.batch_y, training=False)
        layers = [{"layer": i, "type": self.model.layers[i].name,
                   "norms": self.model.layers[i].time_gradient_norms()} for i in self.recurrent]
        for key, g in self.model.grads.items():      # the property syncs fresh arrays into the flat buffer
            g[...] = saved[key]
        return {"type": "time_gradients", "epoch": epoch, "layers": layers}
