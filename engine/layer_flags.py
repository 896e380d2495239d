"""Flags any layer may carry besides its options: `"trainable": false` (frozen) and `"code": true` (the
autoencoder's code layer, whose outputs /codes returns and /decode starts from).

Frozen layers take no gradient step and no weight decay: the trainer zeroes their gradients and puts
their parameters back after every step (engine/flat.py), so they end bit-identical. Without an explicit
code layer the code is the narrowest layer before the output (the last one when several tie, so a dense
layer followed by its own activation layer gives the activation's outputs).
"""
from __future__ import annotations

import math

from .errors import Problem
from .params import Param, resolve_params

LAYER_FLAGS = [
    Param("trainable", "bool", True, help="false: frozen (no gradient step, no weight decay; fine-tuning keeps it)"),
    Param("code", "bool", False, help="the autoencoder's code layer (default: the narrowest layer)"),
]
FLAG_KEYS = tuple(p.name for p in LAYER_FLAGS)


def normalize_flags(layer_spec: dict, path: str) -> dict:
    """The flags the layer spec sets, checked; defaults are left out, so a plain layer stays plain."""
    given = {k: layer_spec[k] for k in FLAG_KEYS if k in layer_spec}
    resolved = resolve_params(LAYER_FLAGS, given, path)
    return {k: resolved[k] for k in given}


def flag_problems(layers: list[dict]) -> list[Problem]:
    codes = [i for i, layer in enumerate(layers) if layer.get("code")]
    if len(codes) > 1:
        return [Problem(f"model.layers.{codes[1]}.code", f"only one layer can be the code; layer {codes[0]} is")]
    if codes and codes[0] == len(layers) - 1:
        return [Problem(f"model.layers.{codes[0]}.code", "the output layer cannot be the code: a decoder must follow")]
    return []


def frozen_layers(model_spec: dict) -> list[int]:
    """Indexes of the layers marked `"trainable": false`."""
    return [i for i, layer in enumerate(model_spec.get("layers") or []) if layer.get("trainable") is False]


def code_layer(model) -> int:
    """Index of a built model's code layer: the one marked `"code": true`, else the narrowest before the output."""
    for i, layer in enumerate(model.spec["layers"]):
        if layer.get("code"):
            return i
    sizes = [math.prod(layer.output_shape) for layer in model.layers[:-1]]
    if not sizes:
        return 0
    narrowest = min(sizes)
    return max(i for i, size in enumerate(sizes) if size == narrowest)
