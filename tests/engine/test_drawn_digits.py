"""Quality bar for reading drawn digits: MNIST test digits rendered the way a browser canvas shows them
(upscaled 4-12x with smooth interpolation, small or large, off-centre on a big canvas, thin or thick
ink, transparent RGBA or black-on-white / white-on-black RGB) and read through prepare_drawing and the
default model must score within 2 points of the same model on the untouched images.
"""
from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from engine.digits import DEFAULT_MODEL_PATH, default_model, predict_proba, prepare_drawing

N_IMAGES = 1000
MAX_DROP = 0.02      # drawn accuracy may be at most 2 points below clean accuracy
STYLES = ("rgba", "black_on_white", "white_on_black", "grey_rgba")
PENS = ("thin", "normal", "thick")


def mnist_dir() -> Path | None:
    for d in (os.environ.get("MNIST_DIR"), Path(__file__).parents[3] / "shared" / "data" / "mnist",
              "/work/shared/data/mnist"):
        if d and (Path(d) / "t10k-images-idx3-ubyte.gz").exists():
            return Path(d)
    return None


def read_idx(path: Path) -> np.ndarray:
    raw = gzip.open(path).read()
    ndim = raw[3]
    dims = np.frombuffer(raw[4:4 + 4 * ndim], ">u4").astype(int)
    return np.frombuffer(raw[4 + 4 * ndim:], np.uint8).reshape(dims)


def fixed_test_subset(n: int = N_IMAGES, seed: int = 2024):
    """n fixed MNIST test images (n, 28, 28) uint8 and their labels (n,)."""
    d = mnist_dir()
    if d is None:
        pytest.skip("MNIST test files not found (set $MNIST_DIR or put them in ../shared/data/mnist)")
    images = read_idx(d / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(d / "t10k-labels-idx1-ubyte.gz")
    idx = np.random.default_rng(seed).choice(len(images), n, replace=False)
    return images[idx], labels[idx].astype(np.int64)


def bilinear_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) linear interpolation between pixel centres (how a browser smooths an upscaled bitmap)."""
    centre = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    w = np.clip(1.0 - np.abs(centre[:, None] - np.arange(n_in)[None, :]), 0.0, None)
    return w / w.sum(axis=1, keepdims=True)


def grey_morphology(img: np.ndarray, radius: int, op) -> np.ndarray:
    """Grey dilation (op=np.maximum) or erosion (np.minimum) with a disc of `radius` px; loops over offsets only."""
    out = img.copy()
    padded = np.pad(img, radius, mode="constant")
    h, w = img.shape
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dy * dy + dx * dx <= radius * radius:
                out = op(out, padded[radius + dy:radius + dy + h, radius + dx:radius + dx + w])
    return out


def render_on_canvas(digit: np.ndarray, rng: np.random.Generator, style: str, pen: str | None = None) -> np.ndarray:
    """(28, 28) uint8 MNIST digit -> a canvas image (H, W, 3|4) uint8 as a drawpad would produce it."""
    k = rng.uniform(4, 12)                                            # upscale factor: small or large
    size = int(round(28 * k))
    r = bilinear_matrix(28, size)
    ink = r @ (digit.astype(np.float64) / 255.0) @ r.T                # (size, size) smooth upscale
    pen = rng.choice(PENS) if pen is None else pen
    if pen == "thin":
        ink = grey_morphology(ink, max(1, int(k * 0.35)), np.minimum)
    elif pen == "thick":
        ink = grey_morphology(ink, max(1, int(k * 0.5)), np.maximum)
    canvas_h, canvas_w = int(size * rng.uniform(1.1, 2.0)), int(size * rng.uniform(1.1, 2.0))
    top, left = rng.integers(0, canvas_h - size + 1), rng.integers(0, canvas_w - size + 1)  # off-centre
    full = np.zeros((canvas_h, canvas_w))
    full[top:top + size, left:left + size] = ink
    return ink_to_pixels(full, style)


def ink_to_pixels(ink: np.ndarray, style: str) -> np.ndarray:
    """(H, W) ink in [0, 1] -> uint8 canvas pixels in the given style."""
    q = np.round(np.clip(ink, 0, 1) * 255).astype(np.uint8)
    h, w = ink.shape
    if style == "rgba":                                               # black ink on a transparent canvas
        return np.dstack([np.zeros((h, w, 3), np.uint8), q])
    if style == "grey_rgba":                                          # coloured ink, transparent canvas
        return np.dstack([np.full((h, w), 40, np.uint8), np.full((h, w), 90, np.uint8),
                          np.full((h, w), 200, np.uint8), q])
    if style == "black_on_white":
        return np.repeat((255 - q)[:, :, None], 3, axis=2)
    return np.repeat(q[:, :, None], 3, axis=2)                        # white_on_black


def drawn_and_clean_accuracy(model, images, labels, seed: int = 7) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    styles = rng.choice(STYLES, len(images))
    prepared = np.stack([prepare_drawing(render_on_canvas(img, rng, s)) for img, s in zip(images, styles)])
    clean = predict_proba(model, images.astype(np.float32) / 255.0).argmax(axis=1)
    drawn = predict_proba(model, prepared).argmax(axis=1)
    return float((drawn == labels).mean()), float((clean == labels).mean())


@pytest.mark.slow
def test_default_model_reads_canvas_renderings_within_two_points_of_clean_mnist():
    if not DEFAULT_MODEL_PATH.exists():
        pytest.skip(f"default digit model not trained yet ({DEFAULT_MODEL_PATH})")
    images, labels = fixed_test_subset()
    drawn, clean = drawn_and_clean_accuracy(default_model(), images, labels)
    print(f"\ndrawn-digit accuracy {drawn:.4f} vs clean accuracy {clean:.4f} on {len(labels)} MNIST test images")
    assert drawn >= clean - MAX_DROP, f"drawn {drawn:.4f} is more than {MAX_DROP:.0%} below clean {clean:.4f}"


def test_renderer_really_changes_the_pixels_it_feeds_prepare_drawing():
    images, _ = fixed_test_subset(20)
    rng = np.random.default_rng(0)
    canvases = [render_on_canvas(img, rng, s) for img, s in zip(images, np.resize(STYLES, 20))]
    assert all(min(c.shape[:2]) >= 28 * 4 for c in canvases)          # upscaled at least 4x
    assert {c.shape[2] for c in canvases} == {3, 4}
    prepared = np.stack([prepare_drawing(c) for c in canvases])
    assert prepared.shape == (20, 28, 28)
    assert np.abs(prepared - images / 255.0).mean() > 0.005           # not a pass-through of the original
