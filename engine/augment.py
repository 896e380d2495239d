"""Seeded image augmentation: a random shift, rotation and scale per sample, applied to the whole batch
at once with an inverse-mapped bilinear sampler (no loop over samples or pixels)."""
from __future__ import annotations

import numpy as np

from .params import Param, resolve_params

AUGMENTATION_OPTIONS = [
    Param("shift", "float", 2.0, 0.0, 8.0, help="largest shift in pixels, drawn uniformly per sample in x and y"),
    Param("rotation", "float", 10.0, 0.0, 45.0, help="largest rotation in degrees, drawn uniformly per sample"),
    Param("scale", "float", 0.1, 0.0, 0.5, help="largest zoom change: factor drawn from [1 - scale, 1 + scale]"),
]
CHUNK = 4096   # samples per vectorised step: bounds the temporaries to a few tens of MB


def resolve_augmentation(spec: dict | None, path: str = "training.augmentation") -> dict | None:
    """null -> None; a dict -> validated options with defaults filled."""
    return None if spec is None else resolve_params(AUGMENTATION_OPTIONS, spec, path)


def augment_images(x: np.ndarray, rng: np.random.Generator, shift: float = 2.0, rotation: float = 10.0,
                   scale: float = 0.1) -> np.ndarray:
    """Random affine per sample. x is (N, C, H, W) or flat (N, H*W) square images; returns the same shape."""
    n = len(x)
    dx, dy = rng.uniform(-shift, shift, n), rng.uniform(-shift, shift, n)
    angle = rng.uniform(-rotation, rotation, n)
    zoom = rng.uniform(1.0 - scale, 1.0 + scale, n)
    return affine_images(x, dx, dy, angle, zoom)


def affine_images(x: np.ndarray, dx, dy, angle, zoom) -> np.ndarray:
    """Rotate by `angle` degrees and zoom by `zoom` about the centre, then shift by (dx, dy) pixels
    (positive dx moves content right, positive dy moves it down). Per-sample arrays of length N.
    Pixels that come from outside the image are 0."""
    images = _as_images(x)                                            # (N, C, H, W)
    params = [np.broadcast_to(np.asarray(p, np.float64), (len(images),)) for p in (dx, dy, angle, zoom)]
    out = np.empty_like(images, dtype=np.float32)
    for start in range(0, len(images), CHUNK):                        # chunks bound memory, not a per-sample loop
        sl = slice(start, start + CHUNK)
        out[sl] = _warp(images[sl], *(p[sl] for p in params))
    return out.reshape(np.shape(x)).astype(x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32,
                                           copy=False)


def _as_images(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 4:
        return x
    if x.ndim == 3:
        return x[:, None]                                             # (N, H, W) -> (N, 1, H, W)
    side = int(round(np.sqrt(x.shape[1])))
    if x.ndim != 2 or side * side != x.shape[1]:
        raise ValueError(f"augmentation needs (N, C, H, W) or flat square images, got shape {list(x.shape)}")
    return x.reshape(len(x), 1, side, side)


def _warp(images: np.ndarray, dx, dy, angle, zoom) -> np.ndarray:
    n, c, h, w = images.shape
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float32)                # (H, W)
    # inverse map: source = R(-angle) @ (output - centre - shift) / zoom + centre
    u = cols[None] - np.float32(cx) - dx[:, None, None].astype(np.float32)       # (N, H, W)
    v = rows[None] - np.float32(cy) - dy[:, None, None].astype(np.float32)
    t = np.deg2rad(angle)
    cos = (np.cos(t) / zoom).astype(np.float32)[:, None, None]
    sin = (np.sin(t) / zoom).astype(np.float32)[:, None, None]
    src_x = cos * u + sin * v + np.float32(cx)
    src_y = -sin * u + cos * v + np.float32(cy)
    return _bilinear(images.reshape(n, c, h * w).astype(np.float32, copy=False), src_x, src_y, h, w)


def _bilinear(flat: np.ndarray, src_x: np.ndarray, src_y: np.ndarray, h: int, w: int) -> np.ndarray:
    """Sample (N, C, H*W) images at (N, H, W) source coordinates; outside the image counts as 0.

    The images get a zero border (1 pixel before, 2 after) and the coordinates are clamped into it, so
    every corner lookup is in bounds and anything outside reads 0 without a mask.
    """
    n, c = flat.shape[:2]
    hp, wp = h + 3, w + 3
    padded = np.pad(flat.reshape(n, c, h, w), ((0, 0), (0, 0), (1, 2), (1, 2))).ravel()
    src_x = np.clip(src_x, -1, w)
    src_y = np.clip(src_y, -1, h)
    x0, y0 = np.floor(src_x), np.floor(src_y)
    wx, wy = (src_x - x0)[:, None], (src_y - y0)[:, None]              # (N, 1, H, W) weights of the +1 neighbours
    base = (np.arange(n * c) * (hp * wp)).reshape(n, c, 1, 1)          # start of each (sample, channel) plane
    i00 = base + ((y0.astype(np.int64) + 1) * wp + x0.astype(np.int64) + 1)[:, None]   # (N, C, H, W)
    top = padded[i00] * (1 - wx) + padded[i00 + 1] * wx
    bottom = padded[i00 + wp] * (1 - wx) + padded[i00 + wp + 1] * wx
    return top * (1 - wy) + bottom * wy
