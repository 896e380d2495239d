"""One forward pass, one backward pass and one SGD step of a small dense network, with every number shown.

Everything is the engine's own: `build_model` builds the layers, `Model.loss_and_backward` gives the loss and
the weight gradients the optimizer steps with, `make_optimizer("sgd")` takes the step. The per-layer
dL/da and dL/dz (the lectures' ∂E/∂out and δ) are read by running each layer's own backward once more, one
layer at a time, from the loss's gradient; nothing here re-implements a layer, a loss or an update rule.
Arrays are batch-first: x (N, n_in), z and a (N, units), W (n_in, units).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import SpecError
from ..limits import DEFAULT_LIMITS, Limits
from ..model import build_model
from ..optimizers import LR, make_optimizer

NOT_ELEMENTWISE = ("softmax",)  # activations whose da/dz is a Jacobian, not one number per neuron


def _rows(value: Any, path: str, limits: Limits) -> np.ndarray:
    """x or y: a list of rows of numbers (y may be integer labels) -> float64 array."""
    if not isinstance(value, list) or not value:
        raise SpecError("must be a non-empty list of rows, e.g. [[0.05, 0.10]]", path)
    if len(value) > limits.max_lesson_rows:
        raise SpecError(f"has {len(value)} rows; the limit is max_lesson_rows = {limits.max_lesson_rows}", path)
    for i, row in enumerate(value):
        items = row if isinstance(row, list) else [row]
        if not items or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in items):
            raise SpecError("must be a number or a list of numbers", f"{path}.{i}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except OverflowError:
        raise SpecError("must contain only finite numbers", path) from None
    except ValueError:
        raise SpecError("rows must all have the same length", path) from None
    if not np.all(np.isfinite(arr)):
        raise SpecError("must contain only finite numbers", path)
    return arr


def _check_model(spec: Any, n_in: int, limits: Limits) -> dict:
    """The lesson's networks are small dense stacks, computed in float64 so the lectures' 8 digits hold."""
    if not isinstance(spec, dict) or not isinstance(spec.get("layers"), list):
        raise SpecError("must be a model spec with \"layers\" and \"loss\"", "model")
    layers = spec["layers"]
    if not 1 <= len(layers) <= limits.max_lesson_layers:
        raise SpecError(f"needs 1 to max_lesson_layers = {limits.max_lesson_layers} layers", "model.layers")
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict) or layer.get("type") != "dense":
            raise SpecError("the backprop lesson steps through dense layers only", f"model.layers.{i}.type")
        units = layer.get("units", 8)
        if isinstance(units, int) and units > limits.max_lesson_units:
            raise SpecError(f"must be at most max_lesson_units = {limits.max_lesson_units}", f"model.layers.{i}.units")
    if n_in > limits.max_lesson_units:
        raise SpecError(f"rows have {n_in} inputs; the limit is max_lesson_units = {limits.max_lesson_units}", "x")
    first_w = (layers[0].get("weights") or {}).get("W") if isinstance(layers[0].get("weights"), dict) else None
    # the input width: as given, else the first layer's explicit W rows, else the rows of x
    n_given = len(first_w) if isinstance(first_w, list) and first_w else n_in
    return {**spec, "dtype": "float64", "input_shape": spec.get("input_shape", [n_given])}


def _json(a: np.ndarray | None) -> Any:
    return None if a is None else np.asarray(a).tolist()


def _walk_back(model, out: np.ndarray, t: np.ndarray) -> tuple[list[dict], np.ndarray]:
    """Per layer (first to last): dL/da, da/dz, dL/dz, running each layer's backward once; and dL/dx.

    When the loss fuses with the output activation (sigmoid + binary cross-entropy, softmax + categorical),
    dL/dz of the output layer is the loss's fused gradient, as Model.loss_and_backward uses it."""
    loss, last = model.loss, model.layers[-1]
    fused = bool(loss.fused_with) and loss.fused_with == model.final_activation()
    grad = loss.prob_grad(out, t) if fused else loss.grad(out, t)        # dL/da of the output layer, (N, K)
    steps: list[dict] = []
    for i in reversed(range(len(model.layers))):
        layer = model.layers[i]
        act = layer.activation
        da_dz = None if act.name in NOT_ELEMENTWISE else act.backward(np.ones_like(layer.z), layer.z, layer.out)
        dz = loss.fused(layer.z, layer.out, t)[1] if (fused and layer is last) else act.backward(grad, layer.z, layer.out)
        layer.needs_input_grad = True
        steps.append({"dL_da": grad, "da_dz": da_dz, "dL_dz": dz})
        grad = layer.backward_from_preactivation(dz)                     # dL/d(input), (N, n_in)
    return steps[::-1], grad


def backprop_step(model_spec: Any, x: Any, y: Any, learning_rate: Any = 0.5, steps: Any = None,
                  limits: Limits = DEFAULT_LIMITS) -> dict:
    """POST /api/lessons/backprop: {"loss", "layers": [{index, type, input, z, a, dL_da, dL_dz, dL_dW, dL_db,
    W, b, W_after, b_after, activation, da_dz}], "dL_dx", "curve"}; curve (with `steps`): the loss and the
    first row's outputs before each step and after the last, `steps` SGD steps from the same start."""
    x = _rows(x, "x", limits)
    if x.ndim == 1:
        x = x[:, None]
    y = _rows(y, "y", limits)
    if len(y) != len(x):
        raise SpecError(f"has {len(y)} rows but x has {len(x)}", "y")
    lr = LR.check(learning_rate, "learning_rate")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int)
                              or not 1 <= steps <= limits.max_lesson_steps):
        raise SpecError(f"must be a whole number from 1 to max_lesson_steps = {limits.max_lesson_steps}", "steps")
    model = build_model(_check_model(model_spec, x.shape[1], limits))
    if tuple(model.input_shape) != (x.shape[1],):
        raise SpecError(f"rows have {x.shape[1]} values but model.input_shape is {list(model.input_shape)}", "x")
    before = {k: v.copy() for k, v in model.params.items()}
    with np.errstate(all="ignore"):
        t = _targets(model, x, y)
        loss, out = model.loss_and_backward(x, t)                        # t: the targets as (N, K)
        grads = {k: g.copy() for k, g in model.grads.items()}            # what the optimizer steps with
        walk, dx = _walk_back(model, out, t)
        optimizer = make_optimizer({"name": "sgd", "learning_rate": lr}, "learning_rate")
        optimizer.step(model.params, grads)
        layers = [_layer_json(i, layer, walk[i], before, grads, model.params) for i, layer in enumerate(model.layers)]
        curve = _curve(model, optimizer, x, t, loss, out, steps) if steps else None
    result = {"loss": float(loss), "layers": layers, "dL_dx": _json(dx), "curve": curve}
    if not np.isfinite(loss) or not all(np.all(np.isfinite(v)) for v in model.params.values()):
        raise SpecError("the step overflows at these weights (a non-finite loss or weight)", "model")
    return result


def _targets(model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """y as the loss compares it with the outputs (labels become one-hot); SpecError at "y" if it cannot."""
    out = model.forward(x)
    if y.ndim == 2 and y.shape[1] == 1 and out.shape[1] > 1:
        y = y[:, 0]
    if y.ndim == 1 and out.shape[1] > 1 and not np.all((y == np.round(y)) & (y >= 0) & (y < out.shape[1])):
        raise SpecError(f"labels must be whole numbers from 0 to {out.shape[1] - 1}", "y")
    try:
        return model.loss.targets(y, out)
    except ValueError:
        raise SpecError(f"has shape {list(y.shape)}; the network gives {list(out.shape)} per batch", "y") from None


def _layer_json(i: int, layer, walk: dict, before: dict, grads: dict, after: dict) -> dict:
    has_b = f"{i}.b" in before
    return {"index": i, "type": layer.name, "activation": layer.activation.name,
            "input": _json(layer.x), "z": _json(layer.z), "a": _json(layer.out),
            "dL_da": _json(walk["dL_da"]), "da_dz": _json(walk["da_dz"]), "dL_dz": _json(walk["dL_dz"]),
            "dL_dW": _json(grads[f"{i}.W"]), "dL_db": _json(grads[f"{i}.b"]) if has_b else None,
            "W": _json(before[f"{i}.W"]), "b": _json(before[f"{i}.b"]) if has_b else None,
            "W_after": _json(after[f"{i}.W"]), "b_after": _json(after[f"{i}.b"]) if has_b else None}


def _curve(model, optimizer, x, y, loss0: float, out0: np.ndarray, steps: int) -> dict:
    """Loss and first-row outputs after 0..steps SGD steps (the first step is the one already taken)."""
    losses, outputs = [float(loss0)], [out0[0].tolist()]
    for _ in range(steps - 1):
        loss, out = model.loss_and_backward(x, y)
        losses.append(float(loss))
        outputs.append(out[0].tolist())
        optimizer.step(model.params, model.grads)
    loss, out = model.loss_and_backward(x, y)                           # after the last step
    return {"loss": losses + [float(loss)], "output": outputs + [out[0].tolist()]}


def _dense(units: int, W: list, b: list, activation: str = "sigmoid") -> dict:
    return {"type": "dense", "units": units, "activation": activation, "weights": {"W": W, "b": b}}


# the lectures' worked examples (the page's presets; the tests assert their published numbers)
NETWORK_PRESETS = [
    {"name": "mazur_222", "title": "2-2-2 sigmoid network (the classic worked example)",
     "model": {"loss": "half_squared_error", "layers": [
         _dense(2, [[0.15, 0.25], [0.20, 0.30]], [0.35, 0.35]),
         _dense(2, [[0.40, 0.50], [0.45, 0.55]], [0.60, 0.60])]},
     "x": [[0.05, 0.10]], "y": [[0.01, 0.99]], "learning_rate": 0.5},
    # Negnevitsky's XOR network (thresholds θ as biases b = -θ); the four XOR rows as one batch
    {"name": "xor_221", "title": "2-2-1 XOR network",
     "model": {"loss": "half_squared_error", "layers": [
         _dense(2, [[0.5, 0.9], [0.4, 1.0]], [-0.8, 0.1]),
         _dense(1, [[-1.2], [1.1]], [-0.3])]},
     "x": [[1, 1], [0, 1], [1, 0], [0, 0]], "y": [[0], [1], [1], [0]], "learning_rate": 0.5},
]

# a saturated sigmoid neuron (w = 2, b = 2, x = 1, y = 0): squared error learns slowly, cross-entropy fast
SATURATED_NEURON = {"name": "saturated_neuron", "title": "cross-entropy vs squared error on a saturated neuron",
                    "model": {"layers": [_dense(1, [[2.0]], [2.0])]}, "x": [[1.0]], "y": [[0.0]],
                    "learning_rate": 0.15, "steps": 300,
                    "losses": ["half_squared_error", "binary_crossentropy"]}
