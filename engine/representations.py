"""What a trained network's layers make of the data: the codes of an autoencoder (or any hidden layer's
outputs), the decoder's pictures of chosen codes, and reconstructions of test examples.

encode(model, x, layer) -> (N, U) the layer's outputs for raw inputs (the model's pipeline applied first);
decode(model, codes, layer) -> (M, D) the outputs of the layers after `layer`, fed `codes`;
images(rows) -> base64 uint8 pictures when rows are 28x28 images, else None (callers then send numbers).
The layer defaults to the model's code layer (engine/layer_flags.py: `"code": true`, else the narrowest).
"""
from __future__ import annotations

import math

import numpy as np

from .errors import SpecError
from .evaluation import IMAGE_PIXELS, _image_b64
from .layer_flags import code_layer


def _layered(model, path: str = "job_id") -> None:
    if not model.layers:
        raise SpecError("a knn model has no layers, so no codes; train a network", path)


def chosen_layer(model, layer: int | None, path: str = "layer", decoder: bool = False) -> int:
    """`layer`, checked against the model (SpecError naming `path`), or the model's code layer."""
    _layered(model)
    i = code_layer(model) if layer is None else layer
    last = len(model.layers) - 1
    if not 0 <= i <= last:
        raise SpecError(f"must be a layer of the model, 0 to {last}, got {i}", path)
    if decoder and i == last:
        raise SpecError(f"layer {i} is the output layer: no decoder follows it", path)
    return i


def encode(model, x: np.ndarray, layer: int | None = None) -> np.ndarray:
    """(N, U) outputs of `layer` (flattened) for raw inputs x, in inference mode, in bounded chunks."""
    i = chosen_layer(model, layer)
    xs = model.pipeline.transform(np.asarray(x, dtype=np.float64)).astype(model.dtype, copy=False)
    out = []
    for start in range(0, len(xs), model.chunk_rows):
        a = xs[start:start + model.chunk_rows]
        for lay in model.layers[:i + 1]:
            a = lay.forward(a, training=False)
        out.append(a.reshape(len(a), -1))
    width = math.prod(model.layers[i].output_shape)
    return np.concatenate(out) if out else np.zeros((0, width), dtype=model.dtype)


def decode(model, codes, layer: int | None = None, path: str = "codes") -> np.ndarray:
    """(M, D) outputs of the layers after `layer`, fed `codes` (M, U) as that layer's outputs."""
    i = chosen_layer(model, layer, decoder=True)
    shape = tuple(model.layers[i].output_shape)
    try:
        c = np.asarray(codes, dtype=np.float64)
    except (TypeError, ValueError):
        raise SpecError("must be rows of numbers", path) from None
    if c.ndim != 2 or c.shape[1] != math.prod(shape):
        raise SpecError(f"rows must have {math.prod(shape)} values (layer {i}'s outputs), got shape "
                        f"{list(c.shape)}", path)
    if not np.isfinite(c).all():
        raise SpecError("must contain only finite numbers", path)
    a = c.astype(model.dtype).reshape((len(c),) + shape)
    for lay in model.layers[i + 1:]:
        a = lay.forward(a, training=False)
    return a.reshape(len(a), -1)


def images(rows: np.ndarray) -> list[str] | None:
    """Base64 uint8 pictures (0..1 -> 0..255) of rows that are 28x28 images, else None."""
    rows = np.asarray(rows)
    if rows.ndim < 2 or math.prod(rows.shape[1:]) != IMAGE_PIXELS:
        return None
    return [_image_b64(r) for r in rows]


def first_examples(dataset, limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(inputs, clean targets or inputs, labels or None) of the first `limit` test examples (train when there
    is no test split). A reconstruction set's inputs may be noisy; its targets are the clean originals."""
    split = "test" if dataset.x_test is not None and len(dataset.x_test) else "train"
    x, y = getattr(dataset, f"x_{split}")[:limit], getattr(dataset, f"y_{split}")[:limit]
    if dataset.task == "reconstruction":
        labels = (dataset.labels or {}).get(split)
        return x, y, None if labels is None else labels[:limit]
    return x, x.reshape(len(x), -1), y if dataset.task == "classification" else None


def reconstructions(model, dataset, limit: int) -> dict:
    """The first `limit` test examples: originals, the (noisy) inputs the model saw, what it rebuilt, and
    each example's mean squared error. SpecError when the model does not rebuild its inputs."""
    _layered(model)
    if dataset.task != "reconstruction":
        raise SpecError("this job learns labels, not its inputs; reconstructions need \"target\": \"input\"",
                        "job_id")
    x, clean, labels = first_examples(dataset, limit)
    out = model.predict(x).reshape(len(x), -1)                                   # (N, D)
    err = ((out - clean.reshape(out.shape)) ** 2).mean(axis=1)
    noisy = not np.array_equal(x.reshape(len(x), -1), clean)
    result = {"n": int(len(x)), "labels": None if labels is None else labels.astype(int).tolist(),
              "label_names": dataset.label_names, "errors": err.astype(float).tolist()}
    pictures = images(clean)
    if pictures is not None:
        result.update(encoding="uint8", height=28, width=28, originals=pictures, reconstructions=images(out),
                      inputs=images(np.clip(x.reshape(len(x), -1), 0, 1)) if noisy else None)
    else:
        result.update(encoding="numbers", originals=clean.astype(float).tolist(),
                      reconstructions=out.astype(float).tolist(),
                      inputs=x.reshape(len(x), -1).astype(float).tolist() if noisy else None)
    return result
