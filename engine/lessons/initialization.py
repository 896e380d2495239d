"""The initialization lesson: a deep stack of dense layers fed unit-Gaussian data, per-layer statistics.

Built with engine.build_model (the engine's dense layers, initializers and activations); the forward pass is
the model's own and the backward pass is model.backward of a fixed random linear loss
L = mean_n <r_n, out_n>, r ~ N(0, 1): what reaches each layer then depends on the weights alone.
"""
from __future__ import annotations

import numpy as np

from ..activations import ACTIVATIONS
from ..errors import SpecError
from ..initializers import INITIALIZERS
from ..model import build_model
from ..params import Param
from ..saturation import OUTPUT_RANGE, activation_name, saturation, uniform_counts
from .options import request_options

OPTIONS = [Param("layers", "int", 10, 1, 20, help="dense layers in the stack"),
           Param("units", "int", 500, 1, 1000, help="units per layer (and inputs)"),
           Param("activation", "choice", "tanh", choices=ACTIVATIONS, help="every layer's activation"),
           Param("initializer", "choice", {"name": "random_normal", "stddev": 0.01}, choices=INITIALIZERS,
                 help="every layer's kernel initializer (biases start at zero)"),
           Param("n_samples", "int", 1000, 1, 2000, help="unit-Gaussian input rows"),
           Param("bins", "int", 31, 5, 101, help="histogram bins per layer (odd: zero sits in the middle of a bin)"),
           Param("seed", "int", 0, 0, 2 ** 31 - 1)]

# the lectures' figures, one click each on the page ("compare": a second initializer beside the first)
PRESETS = [
    {"name": "small", "title": "tanh, N(0, 0.01²): activations collapse", "activation": "tanh",
     "initializer": {"name": "random_normal", "stddev": 0.01}, "compare": "glorot_normal"},
    {"name": "large", "title": "tanh, N(0, 1): tanh saturates", "activation": "tanh",
     "initializer": {"name": "random_normal", "stddev": 1.0}, "compare": "glorot_normal"},
    {"name": "lecun", "title": "tanh, LeCun 1/√n", "activation": "tanh", "initializer": "lecun_normal", "compare": None},
    {"name": "glorot_tanh", "title": "tanh, Glorot: the spread survives", "activation": "tanh",
     "initializer": "glorot_normal", "compare": None},
    {"name": "glorot_relu", "title": "ReLU, Glorot vs He: He keeps the spread", "activation": "relu",
     "initializer": "glorot_normal", "compare": "he_normal"},
    {"name": "sigmoid", "title": "sigmoid, N(0, 1) vs Glorot", "activation": "sigmoid",
     "initializer": {"name": "random_normal", "stddev": 1.0}, "compare": "glorot_normal"},
]

def stack_spec(o: dict) -> dict:
    """The model spec of the lesson's network: `layers` dense layers of `units`, one activation and initializer."""
    layer = {"type": "dense", "units": o["units"], "activation": o["activation"],
             "kernel_initializer": o["initializer"], "bias_initializer": "zeros"}
    return {"input_shape": [o["units"]], "dtype": "float32", "layers": [dict(layer) for _ in range(o["layers"])],
            "loss": "mean_squared_error"}


def _edges(outs: list[np.ndarray], activation: str, bins: int) -> np.ndarray:
    """One set of edges for every layer: the activation's range if bounded, else the data's over all layers."""
    if activation in OUTPUT_RANGE:
        lo, hi = OUTPUT_RANGE[activation]
    else:
        lo, hi = min(float(a.min()) for a in outs), max(float(a.max()) for a in outs)
        if not (np.isfinite(lo) and np.isfinite(hi)):
            lo, hi = -1.0, 1.0
        if hi - lo < 1e-12:  # all one value (zeros): a small window around it
            lo, hi = lo - 1.0, hi + 1.0
    return np.linspace(lo, hi, bins + 1)


def _layer_stats(i: int, layer, edges: np.ndarray, grad: np.ndarray) -> dict:
    a = layer.out                                              # (N, units)
    name = activation_name(layer)
    counts = uniform_counts(a, edges)
    return {"index": i, "activation": name, "mean": float(a.mean()), "std": float(a.std()), **saturation(a, name),
            "histogram": {"edges": edges.tolist(), "counts": counts.tolist()},
            "grad_std": float(grad.std())}


def activation_statistics(request: dict) -> dict:
    """POST /api/lessons/initialization -> {"layers": [{"index", "activation", "mean", "std", "saturated",
    "dead", "histogram": {"edges" [bins + 1], "counts" [bins]}, "grad_std"}], "model": the spec used}.

    `grad_std` is the standard deviation of d(loss)/d(W) of that layer (what its update would use).
    A request may give {"model": <model spec>} instead of layers / units / activation / initializer.
    """
    o = request_options(OPTIONS, request, ("model",))
    model_spec = request.get("model")
    for key in ("activation", "initializer"):   # check their options too ({"name": "random_normal", "stddev": -1})
        registry = ACTIVATIONS if key == "activation" else INITIALIZERS
        o[key] = registry.normalize(o[key], key)
    # the lesson's loss is its own (a random linear one, below): a model spec needs no loss of its own
    spec = {"loss": "mean_squared_error", **model_spec} if isinstance(model_spec, dict) else (
        model_spec if model_spec is not None else stack_spec(o))
    model = build_model(spec, seed=o["seed"])
    rng = np.random.default_rng(o["seed"] + 1)
    x = rng.standard_normal((o["n_samples"], *model.input_shape)).astype(model.dtype)    # (N, D)
    with np.errstate(over="ignore", invalid="ignore"):
        out = model.forward(x, training=True)
        r = rng.standard_normal(out.shape).astype(model.dtype)
        model.backward(r / len(x), input_grad=False)                # dL/dout of L = mean_n <r_n, out_n>
    layers = [layer for layer in model.layers if hasattr(layer, "activation")]
    if not layers:
        raise SpecError("needs at least one dense or conv2d layer", "model.layers")
    # the last layer's activation decides a bounded range (the stack has one activation throughout)
    edges = _edges([l.out for l in layers], activation_name(layers[-1]), o["bins"])
    grads = model.grads
    return {"layers": [_layer_stats(i, l, edges, grads[f"{model.layers.index(l)}.W"]) for i, l in enumerate(layers)],
            "model": model.spec}
