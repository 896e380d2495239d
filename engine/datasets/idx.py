"""IDX files (the MNIST format), .gz or raw: validated against their header, never trusted blindly.

Layout: 2 zero bytes, a type byte (0x08 = uint8), a byte with the number of dimensions, then one
big-endian uint32 per dimension, then the data. Images are magic 2051 (3 dims), labels 2049 (1 dim).
"""
from __future__ import annotations

import functools
import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
MAX_IDX_BYTES = 1 << 30     # refuses absurd headers instead of trying to allocate them


def read_idx(path: str | os.PathLike, expect_magic: int | None = None) -> np.ndarray:
    """Read an IDX file into a read-only uint8 array shaped as its header says.

    Raises DataError for a wrong magic number, a truncated or over-long body, or a corrupt gzip stream.
    Decoded arrays are cached per (resolved path, size, mtime), so a second load costs nothing.
    """
    p = Path(path).resolve()
    try:
        st = p.stat()
    except OSError as e:
        raise DataError(f"cannot read {p}: {e.strerror or e}") from None
    return _read_cached(str(p), st.st_size, st.st_mtime_ns, expect_magic)


@functools.lru_cache(maxsize=16)
def _read_cached(path: str, size: int, mtime_ns: int, expect_magic: int | None) -> np.ndarray:
    try:
        with _open(path) as f:
            return _parse(f, path, expect_magic)
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise DataError(f"{path} is truncated or corrupt ({e}); delete it and download it again") from None
    except OSError as e:
        raise DataError(f"cannot read {path}: {e}") from None


def _open(path: str):
    with open(path, "rb") as f:
        is_gzip = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if is_gzip else open(path, "rb")


def _parse(f, path: str, expect_magic: int | None) -> np.ndarray:
    head = f.read(4)
    if len(head) < 4:
        raise DataError(f"{path} is not an IDX file: only {len(head)} bytes")
    magic = int.from_bytes(head, "big")
    if head[:2] != b"\0\0" or head[2] != 0x08 or head[3] == 0:
        raise DataError(f"{path} is not an unsigned-byte IDX file (magic number {magic}, "
                        f"expected {IMAGES_MAGIC} for images or {LABELS_MAGIC} for labels)")
    if expect_magic is not None and magic != expect_magic:
        raise DataError(f"{path} has magic number {magic}, expected {expect_magic} "
                        f"({'images' if expect_magic == IMAGES_MAGIC else 'labels'})")
    ndim = head[3]
    dims_raw = f.read(4 * ndim)
    if len(dims_raw) != 4 * ndim:
        raise DataError(f"{path} is truncated inside its header")
    dims = tuple(int(d) for d in np.frombuffer(dims_raw, dtype=">u4"))
    expected = int(np.prod(dims, dtype=np.int64))
    if expected > MAX_IDX_BYTES:
        raise DataError(f"{path} claims {expected} bytes of data (dims {list(dims)}); refusing")
    body = f.read(expected + 1)                       # one extra byte detects trailing garbage
    if len(body) != expected:
        what = "is truncated" if len(body) < expected else "is longer than its header says"
        raise DataError(f"{path} {what}: header dims {list(dims)} need {expected} data bytes, "
                        f"found {len(body) if len(body) < expected else 'more'}")
    arr = np.frombuffer(body, dtype=np.uint8).reshape(dims)
    arr.flags.writeable = False                       # shared through the cache
    return arr


def read_image_label_pair(images: str | os.PathLike, labels: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(N, H, W) uint8 images and (N,) uint8 labels, checked to have the same N."""
    x = read_idx(images, IMAGES_MAGIC)
    y = read_idx(labels, LABELS_MAGIC)
    if x.ndim != 3:
        raise DataError(f"{images} should hold (N, rows, cols) images, has dims {list(x.shape)}")
    if y.ndim != 1:
        raise DataError(f"{labels} should hold (N,) labels, has dims {list(y.shape)}")
    if len(x) != len(y):
        raise DataError(f"{images} has {len(x)} images but {labels} has {len(y)} labels")
    return x, y
