"""The first weighted layer of an image model as pictures: conv filters, or a dense layer's weight templates.

first_layer_images(model) -> {"layer", "type", "height", "width", "count", "images": [base64 uint8 (h*w)],
"classes"}: `classes` names what each picture scores when the layer is the output layer (a linear classifier:
one template per class, the lectures' "what a linear classifier learns"), else null.
Each picture is scaled on its own: 128 is a zero weight, 0 and 255 are minus and plus its largest |weight|,
so the sign pattern (what the unit looks for) shows whatever the unit's overall size.
"""
from __future__ import annotations

import base64
import math

import numpy as np

from .errors import DataError

MAX_PICTURES = 64


def _signed_bytes(w: np.ndarray) -> str:
    """(h, w) weights -> base64 uint8 with 128 = 0, scaled by the largest |weight|."""
    top = float(np.max(np.abs(w))) or 1.0
    return base64.b64encode(np.rint(127.5 + 127.5 * np.clip(w / top, -1, 1)).astype(np.uint8).tobytes()).decode()


def _class_names(model, n: int) -> list[str]:
    names = getattr(model, "class_names", None)
    return [str(c) for c in names] if names and len(names) == n else [str(k) for k in range(n)]


def first_layer_images(model, limit: int = MAX_PICTURES) -> dict:
    """Pictures of the first layer with a kernel `W`: conv (F, C, kh, kw) -> F filters of kh x kw (channels
    averaged); dense (D, U) on square images -> U templates of side x side. DataError for anything else."""
    for i, layer in enumerate(model.layers):
        w = layer.params.get("W") if hasattr(layer, "params") else None
        if w is None:
            continue
        if w.ndim == 4:                                     # (F, C, kh, kw)
            pictures = w.mean(axis=1)                       # (F, kh, kw)
            kind = "conv2d"
        elif w.ndim == 2:                                   # (D, U): column u is unit u's template
            side = math.isqrt(w.shape[0])
            if side * side != w.shape[0]:
                raise DataError(f"layer {i} is dense on {w.shape[0]} inputs, not a square image: no templates")
            pictures = w.T.reshape(w.shape[1], side, side)  # (U, side, side), row-major like the flattened image
            kind = "dense"
        else:
            raise DataError(f"layer {i} has a {w.ndim}-D kernel; only conv and dense layers are drawn")
        shown = pictures[:limit]
        return {"layer": i, "type": kind, "height": int(shown.shape[1]), "width": int(shown.shape[2]),
                "count": int(pictures.shape[0]), "images": [_signed_bytes(p) for p in shown],
                "classes": _class_names(model, len(pictures)) if i == len(model.layers) - 1 else None}
    raise DataError("the model has no layer with weights")
