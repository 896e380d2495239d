"""How much memory a job needs at its peak, estimated from shapes alone (nothing is allocated).

`estimate_job_memory(spec, facts)` adds up, in bytes of the model's dtype:
  parameters   weights + their gradients (2 x count_params)
  optimizer    per-parameter slots (the optimizer class's `slots`: sgd 1, adam 2, ...) + the update's temporaries
  activations  one training batch through forward + backward: what every layer keeps for backward (its output,
               pre-activation, mask, a conv's im2col columns), plus the largest layer's backward temporaries
               (input and output gradients, a conv's column gradient and per-sample weight products); or
               an inference chunk (evaluation, predict: PREDICT_BATCH rows) when that is larger
  boundary     the probe grids of 2-D point data (stream.resolution^2 points, forward only, chunked)
  data         the training rows, raw and preprocessed
`memory_problems` refuses a job whose total exceeds `limits.max_job_bytes`, at the field that drives it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import Problem

# the field a user changes to shrink each part
PART_FIELDS = {"activations": "training.batch_size", "parameters": "model", "optimizer": "training.optimizer",
               "boundary": "stream.resolution", "data": "dataset"}
RAW_BYTES = 8  # loaders give float64 rows; the trainer keeps a preprocessed copy in the model's dtype


@dataclass
class LayerCost:
    """Per example, in elements: what the layer keeps between forward and backward, and the peak of its
    backward temporaries."""
    kept: int
    backward: int


def _conv_extra(layer, in_shape: tuple, out_shape: tuple) -> LayerCost:
    c, h, w = in_shape
    f, ho, wo = out_shape
    k, l = c * layer.kh * layer.kw, ho * wo
    grid = (h + layer.pt + layer.pb) * (w + layer.pl + layer.pr)            # Hp * Wp
    # cols (K, L) and the padded input (C, Hp, Wp) kept; backward (layers/conv.py): the transposed output
    # gradient (F, L), the output gradient on the padded grid (F, Hp, Wp), the column gradient on that grid
    # (K, Hp, Wp) and the col2im sum (C, Hp, Wp)
    return LayerCost(kept=k * l + c * grid, backward=f * l + (f + k + c) * grid)


def _maxout_extra(layer, in_shape: tuple, out_shape: tuple) -> LayerCost:
    units = math.prod(out_shape)
    z = units * layer.config["pieces"]  # all pieces, plus the (int64) argmax
    return LayerCost(kept=z + units, backward=z)


def _recurrent_extra(layer, in_shape: tuple, out_shape: tuple) -> LayerCost:
    (t, d), h, g = in_shape, layer.config["units"], layer.n_gates
    # kept (engine/layers/recurrent.py): the time-major input (T, D), pre-activations or gates (T, G*H),
    # hidden states (T+1, H) and dL/dh_t (T, H); an lstm adds cell states and tanh(c) (2T+1, H).
    # backward: the step gradients dz (T, G*H), the time-major output gradient (T, H), dx (T, D), and for an
    # lstm its per-step factors (k3, ko, dc/dh: 5T*H)
    cell = (2 * t + 1) * h if g == 4 else 0
    kept = t * d + t * g * h + (2 * t + 1) * h + cell
    backward = t * g * h + t * h + t * d + (5 * t * h if g == 4 else 0)
    return LayerCost(kept=kept, backward=backward)


# layers whose caches go beyond their output and pre-activation (the rest: LayerCost(0, 0))
EXTRA = {"conv2d": _conv_extra, "maxout": _maxout_extra, "simple_rnn": _recurrent_extra, "lstm": _recurrent_extra}


@dataclass
class MemoryEstimate:
    parts: dict[str, int]          # bytes per part (see the module docstring)
    batch: int                     # rows of one training batch
    largest_layer: int | None      # index of the layer keeping the most per example
    inference_rows: int = 0        # rows per inference chunk, when that (not the batch) sets `activations`

    @property
    def total(self) -> int:
        return sum(self.parts.values())


def _layer_costs(model_spec: dict) -> list[tuple[LayerCost, int]]:
    """(cost per example, parameter elements) for each layer, walking the shapes."""
    from .model import _instantiate
    shape, costs = tuple(model_spec["input_shape"]), []
    for i, layer_spec in enumerate(model_spec["layers"]):
        layer = _instantiate(layer_spec, f"model.layers.{i}")
        out = layer.compute_output_shape(shape)
        n_in, n_out = math.prod(shape), math.prod(out)
        extra = EXTRA.get(layer_spec["type"], lambda *_: LayerCost(0, 0))(layer, shape, out)
        # kept: output + pre-activation (or mask, normalised input); backward: the incoming and outgoing
        # gradients and the activation's derivative
        cost = LayerCost(kept=2 * n_out + extra.kept, backward=2 * n_out + n_in + extra.backward)
        params = sum(math.prod(s) for s in layer.param_shapes(shape).values())
        costs.append((cost, params))
        shape = out
    return costs


def _forward_rows(costs: list[tuple[LayerCost, int]], rows: int) -> int:
    return rows * sum(c.kept for c, _ in costs)


def estimate_job_memory(spec: dict, facts) -> MemoryEstimate:
    """Peak bytes of a normalized job spec (`spec`) on data with these DataFacts."""
    from .model import PREDICT_BATCH
    from .optimizers import make_optimizer
    model, training, stream = spec["model"], spec["training"], spec["stream"]
    item = 8 if model.get("dtype") == "float64" else 4
    costs = _layer_costs(model)
    n_params = sum(p for _, p in costs)
    largest_param = max((p for _, p in costs), default=0)
    n_train = facts.n_train if facts is not None else None
    batch = training.get("batch_size") or n_train or 1
    batch = min(batch, n_train) if n_train else batch
    step = batch * (sum(c.kept for c, _ in costs) + max((c.backward for c, _ in costs), default=0))
    inference = _forward_rows(costs, PREDICT_BATCH if n_train is None else min(PREDICT_BATCH, n_train))
    slots = len(make_optimizer(training.get("optimizer")).slots)
    parts = {"parameters": 2 * n_params * item,
             "optimizer": (slots * n_params + 2 * largest_param) * item,
             "activations": max(step, inference) * item,
             "boundary": 0,
             "data": (n_train or 0) * math.prod(model["input_shape"]) * (RAW_BYTES + item)}
    if stream and stream.get("boundary") and (spec["dataset"] or {}).get("features") is not None:
        rows = max(min(stream["resolution"] ** 2, PREDICT_BATCH), stream["neuron_resolution"] ** 2)
        parts["boundary"] = _forward_rows(costs, rows) * item
    kept = [c.kept for c, _ in costs]
    largest = max(range(len(kept)), key=kept.__getitem__) if kept else None
    chunk = 0 if step >= inference else min(PREDICT_BATCH, n_train or PREDICT_BATCH)
    return MemoryEstimate(parts, batch, largest, chunk)


def _gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.0f} MB"


def memory_problems(spec: dict, facts, limits) -> list[Problem]:
    """A Problem at the field driving the estimate when the job would need more than limits.max_job_bytes."""
    est = estimate_job_memory(spec, facts)
    if est.total <= limits.max_job_bytes:
        return []
    part = max(est.parts, key=est.parts.get)
    detail = ", ".join(f"{name} {_gb(n)}" for name, n in est.parts.items() if n)
    layer = f"model.layers.{est.largest_layer}"
    field = PART_FIELDS[part]
    if part == "activations" and est.inference_rows:  # evaluation's chunks, not the batch: the layer's size
        field = layer
    hint = {"activations": f"evaluating {est.inference_rows:,} rows at a time through {layer}: make that layer "
                           f"smaller" if est.inference_rows else
                           f"a batch of {est.batch:,} rows through {layer}: lower training.batch_size or that "
                           f"layer's size",
            "parameters": "make the network smaller", "optimizer": "make the network smaller or use plain sgd",
            "boundary": "lower stream.resolution or turn the boundary off",
            "data": "use fewer rows (dataset.limit / n_samples)"}[part]
    return [Problem(field, f"the job would need about {_gb(est.total)} of memory ({detail}); the "
                                       f"limit is {_gb(limits.max_job_bytes)} (max_job_bytes). Most of it is "
                                       f"{part}: {hint}")]
