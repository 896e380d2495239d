"""Read a drawn digit the way MNIST was made: ink -> crop -> area-average to 20 px -> centre of mass at (14, 14).

`prepare_drawing(image | strokes)` turns what a browser canvas produces (an RGBA, RGB, grey+alpha or
greyscale uint8 array of any size, or a stroke list, see engine/rasterize.py) into the (28, 28)
float32 image in [0, 1] (ink = 1, background = 0) a MNIST model was trained on.
`predict_drawing` runs a model on it; `default_model()` is the digit model shipped in engine/assets.
"""
from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np

from .errors import DataError
from .limits import DEFAULT_LIMITS
from .rasterize import rasterize_strokes

MAX_SIDE = DEFAULT_LIMITS.max_image_side
BOX = 20                   # MNIST: the longer side of the digit's bounding box
SIZE = 28                  # MNIST: the frame
CENTRE = 14.0              # MNIST: centre of mass in index coordinates (measured: 13.99, 14.00)
INK_FLOOR = 0.05           # ink below this is background noise (JPEG, paper grain)
MIN_EXTENT = 3             # a blob smaller than this (pixels per side) is a speck, not a digit
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)   # ITU-R 601-2, as PIL's "L"
DEFAULT_MODEL_PATH = Path(__file__).parent / "assets" / "digit_model.npz"


def prepare_drawing(image) -> np.ndarray:
    """A canvas image (H, W[, C]) uint8 or a stroke list -> (28, 28) float32 in [0, 1], ink = 1.

    Raises DataError for an empty or near-empty drawing, an unsupported shape or dtype, or an image
    larger than MAX_SIDE per side.
    """
    if isinstance(image, (list, tuple, dict)):
        ink = rasterize_strokes(image)                      # (h, w) already ink in [0, 1]
    else:
        ink = extract_ink(image)                            # (H, W)
    ink = np.where(ink >= INK_FLOOR, ink, 0.0).astype(np.float32)
    crop = crop_to_ink(ink)                                 # (h, w)
    box = resize_longer_side(crop, BOX)                     # (<=20, <=20), longer side 20
    peak = float(box.max())
    if peak <= 0:
        raise DataError("the drawing is empty: no ink left after scaling; draw a larger digit")
    box = np.clip(box / peak, 0.0, 1.0)                     # MNIST strokes peak at 1, whatever the pen
    return centre_of_mass_frame(box)


def extract_ink(image) -> np.ndarray:
    """(H, W), (H, W, 1|2|3|4) uint8 (or float in [0, 1]) -> ink (H, W) float32 in [0, 1].

    Ink is the alpha channel when the image has transparency (alpha not all opaque), else the
    distance of each pixel's luminance from the background's, where the background is the median
    luminance of the border: black-on-white and white-on-black both give ink = 1 on the strokes.
    Channels are converted one at a time, so a 4096x4096 RGBA canvas never becomes one float copy.
    """
    arr, unit = _checked_pixels(image)                      # (H, W) or (H, W, C); unit = 255 or 1
    if arr.ndim == 2:
        return ink_from_luminance(_channel(arr, unit))
    channels = arr.shape[2]
    if channels in (2, 4) and arr[..., -1].min() < unit:
        return _channel(arr[..., -1], unit)
    if channels <= 2:
        return ink_from_luminance(_channel(arr[..., 0], unit))
    lum = LUMA[0] * _channel(arr[..., 0], unit)
    lum += LUMA[1] * _channel(arr[..., 1], unit)
    lum += LUMA[2] * _channel(arr[..., 2], unit)
    return ink_from_luminance(lum)


def _channel(channel: np.ndarray, unit: float) -> np.ndarray:
    return channel.astype(np.float32) / np.float32(unit)   # (H, W) in [0, 1]


def ink_from_luminance(lum: np.ndarray) -> np.ndarray:
    """(H, W) luminance in [0, 1] -> ink (H, W): 0 at the background colour, 1 at the far extreme."""
    border = np.concatenate([lum[0], lum[-1], lum[:, 0], lum[:, -1]])
    bg = float(np.median(border))
    if bg >= 0.5:                                           # dark ink on a light background
        ink = (bg - lum) / max(bg, 1e-6)
    else:                                                   # light ink on a dark background
        ink = (lum - bg) / max(1.0 - bg, 1e-6)
    return np.clip(ink, 0.0, 1.0).astype(np.float32, copy=False)


def _checked_pixels(image) -> tuple[np.ndarray, float]:
    """Validate shape, size and dtype; returns the array and the value of full intensity (255 or 1)."""
    arr = np.asarray(image)
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 2, 3, 4)):
        raise DataError(f"image: expected shape (H, W) or (H, W, C) with C in 1..4, got {list(arr.shape)}")
    h, w = arr.shape[:2]
    if h < 1 or w < 1:
        raise DataError(f"the drawing is empty: the image has size {w}x{h}")
    if h > MAX_SIDE or w > MAX_SIDE:
        raise DataError(f"image: at most {MAX_SIDE}x{MAX_SIDE} pixels are allowed, got {w}x{h}")
    if arr.dtype == np.uint8:
        return arr, 255.0
    if arr.dtype == bool:
        return arr.astype(np.uint8), 1.0
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
            raise DataError("image: float pixels must be finite and within [0, 1]")
        return arr, 1.0
    raise DataError(f"image: expected uint8 pixels (0..255) or floats in [0, 1], got dtype {arr.dtype}")


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """(H, W) -> the bounding box of the nonzero ink; DataError when there is none or only a speck."""
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        raise DataError("the drawing is empty: no ink found on the canvas; draw a digit")
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    if max(r1 - r0, c1 - c0) < MIN_EXTENT:
        raise DataError(f"the drawing is empty: only a speck of ink ({c1 - c0}x{r1 - r0} px); draw a digit")
    return ink[r0:r1, c0:c1]


def resize_longer_side(img: np.ndarray, size: int) -> np.ndarray:
    """(H, W) -> (h, w) with max(h, w) == size, aspect ratio kept; exact area averaging when shrinking."""
    h, w = img.shape
    scale = size / max(h, w)
    out_h, out_w = max(1, round(h * scale)), max(1, round(w * scale))
    rh, rw = resample_matrix(h, out_h), resample_matrix(w, out_w)   # (out_h, H), (out_w, W)
    return (rh @ img @ rw.T).astype(np.float32)                     # (out_h, H) @ (H, W) @ (W, out_w)


def resample_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) weights; rows sum to 1.

    Shrinking (n_out <= n_in): box filter, each output pixel averages the input area it covers
    (fractional overlaps), so a one-pixel stroke keeps its ink mass instead of vanishing.
    Enlarging: linear interpolation between pixel centres (a box would give blocky nearest-neighbour).
    """
    step = n_in / n_out
    j = np.arange(n_in, dtype=np.float64)[None, :]                  # input pixel j covers [j, j + 1)
    i = np.arange(n_out, dtype=np.float64)[:, None]
    if step >= 1:
        lo, hi = i * step, (i + 1) * step                            # output pixel i covers [lo, hi)
        weights = np.clip(np.minimum(hi, j + 1) - np.maximum(lo, j), 0.0, None)
    else:
        centre = (i + 0.5) * step - 0.5                              # output centre in input index units
        weights = np.clip(1.0 - np.abs(centre - j), 0.0, None)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def centre_of_mass_frame(box: np.ndarray) -> np.ndarray:
    """(h, w) with h, w <= 20 -> (28, 28) with the ink's centre of mass at (14, 14) (whole-pixel shift, clipped)."""
    h, w = box.shape
    b = box.astype(np.float64)                                       # float64 sums: order-independent to ~1e-15
    mass = float(b.sum())
    com_r = float(b.sum(axis=1) @ np.arange(h)) / mass
    com_c = float(b.sum(axis=0) @ np.arange(w)) / mass
    top = int(np.clip(_round_half_up(CENTRE - com_r), 0, SIZE - h))  # keep the whole box inside the frame
    left = int(np.clip(_round_half_up(CENTRE - com_c), 0, SIZE - w))
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    out[top:top + h, left:left + w] = box
    return out


def _round_half_up(shift: float) -> int:
    """Whole-pixel shift; a centre of mass within 1e-6 of a half pixel (a symmetric digit) always rounds up.

    Python's round() is round-half-even and the float32 inputs put a symmetric drawing a hair either
    side of .5 depending on how it was made, so the same drawing could land one pixel apart.
    """
    return math.floor(round(shift, 6) + 0.5)


def predict_drawing(image, model=None) -> dict:
    """Prepare a drawing and read it: {"label": int, "probabilities": [10 floats], "input": 28x28 nested list}."""
    return read_digit(prepare_drawing(image), default_model() if model is None else model)


def read_digit(x: np.ndarray, model) -> dict:
    """A prepared (28, 28) image read by `model`: label and probabilities as the model's loss reads its outputs."""
    out = model.forward_batched(_model_layout(model, x[None]))       # (1, K)
    probs = model.loss.probabilities(out)[0]                         # (K,)
    if probs.shape != (10,):
        raise DataError(f"job_id: the model gives {probs.shape[0]} outputs, not 10 digit probabilities")
    if not np.isfinite(probs).all():
        raise DataError("job_id: the model's outputs are not finite (diverged?)")
    return {"label": int(model.loss.labels(out)[0]), "probabilities": [float(p) for p in probs],
            "input": x.tolist()}


def _model_layout(model, images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) -> (N, 784) or (N, 1, 28, 28), whichever the model was built for, preprocessed."""
    x = images.reshape((len(images),) + tuple(model.input_shape)).astype(np.float64)
    return model.pipeline.transform(x).astype(model.dtype, copy=False)


def predict_proba(model, images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) prepared images -> (N, 10) class probabilities, in the layout the model wants."""
    return model.loss.probabilities(model.forward_batched(_model_layout(model, images))).astype(np.float32)


@functools.lru_cache(maxsize=1)
def default_model():
    """The digit model shipped in engine/assets (loaded once)."""
    from .model import load_model
    if not DEFAULT_MODEL_PATH.exists():
        raise DataError(f"the default digit model is missing: {DEFAULT_MODEL_PATH}; "
                        "retrain it with: nnplay train engine/assets/digit_model.spec.json "
                        "--out engine/assets/digit_model.npz")
    return load_model(DEFAULT_MODEL_PATH)
