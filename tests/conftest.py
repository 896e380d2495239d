"""Shared fixtures: a seeded generator and the MNIST folder (skips when the files are absent)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def mnist_dir() -> Path:
    """Folder with the MNIST IDX .gz files: $MNIST_DIR, else ../shared/data/mnist beside the repo."""
    path = Path(os.environ.get("MNIST_DIR") or REPO.parent / "shared" / "data" / "mnist")
    missing = [name for name in MNIST_FILES if not (path / name).is_file()]
    if missing:
        pytest.skip(f"MNIST files not found in {path} (missing {', '.join(missing)}); set MNIST_DIR")
    return path
