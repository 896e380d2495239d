"""A thousand real MNIST test digits shipped with the project, so "try a test digit" works offline.

engine/assets/mnist_test_sample.npz holds the first 1,000 images and labels of the official MNIST
test set (t10k), uint8, exactly as published.
"""
from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path

import numpy as np

SAMPLE_PATH = Path(__file__).resolve().parent / "assets" / "mnist_test_sample.npz"


@lru_cache(maxsize=1)
def test_digits() -> tuple[np.ndarray, np.ndarray]:
    """(images (1000, 28, 28) uint8, labels (1000,) uint8)."""
    with np.load(SAMPLE_PATH, allow_pickle=False) as data:
        return data["images"], data["labels"]


def sample_digit(index: int | None = None, rng: np.random.Generator | None = None) -> dict:
    """One test digit: {"index", "label", "image": base64 of 784 uint8, row-major}."""
    images, labels = test_digits()
    if index is None:
        index = int((rng or np.random.default_rng()).integers(len(images)))
    if not 0 <= index < len(images):
        raise IndexError(f"index must be between 0 and {len(images) - 1}, got {index}")
    return {"index": index, "label": int(labels[index]),
            "image": base64.b64encode(images[index].tobytes()).decode("ascii")}
