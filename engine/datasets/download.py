"""Download the MNIST-format files into the per-user cache: mirrors tried in order, checksums verified,
written to a temporary file in the same folder and renamed into place (never a half file)."""
from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import TextIO

from ..errors import DataError

MIRROR_ENV = "NNPLAY_MNIST_MIRROR"   # comma-separated base URLs; overrides the built-in list ("" = offline)
TIMEOUT = 20.0                       # seconds per connection / read
CHUNK = 1 << 16

FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

# the published files' MD5s
CHECKSUMS = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}

MIRRORS = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ],
    "fashion_mnist": [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ],
}


def mirrors_for(name: str, mirrors: list[str] | None = None) -> list[str]:
    """Explicit list, else $NNPLAY_MNIST_MIRROR (comma-separated), else the built-in public mirrors."""
    if mirrors is not None:
        return list(mirrors)
    env = os.environ.get(MIRROR_ENV)
    if env is not None:
        return [m.strip() for m in env.split(",") if m.strip()]
    return list(MIRRORS[name])


def md5_of(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download_dataset(name: str, dest: str | os.PathLike, mirrors: list[str] | None = None,
                     checksums: dict[str, str] | None = None, files: list[str] | None = None,
                     progress: TextIO | None = sys.stderr) -> Path:
    """Fetch the four files of `name` ("mnist" | "fashion_mnist") into `dest`; return `dest`.

    Files already there with the right checksum are kept. `checksums` maps file name -> MD5 (default:
    the published ones). Raises DataError naming every mirror tried and where to put the files by hand.
    """
    dest = Path(dest)
    bases = mirrors_for(name, mirrors)
    sums = CHECKSUMS[name] if checksums is None else checksums
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"cannot create the download folder {dest}: {e.strerror or e}") from None
    for fname in files or list(FILES.values()):
        target = dest / fname
        if target.exists() and (fname not in sums or md5_of(target) == sums[fname]):
            continue
        _fetch_one(fname, target, bases, sums.get(fname), progress)
    return dest


def _fetch_one(fname: str, target: Path, bases: list[str], md5: str | None, progress) -> None:
    errors = []
    for base in bases:
        url = base.rstrip("/") + "/" + fname
        try:
            _fetch_url(url, target, md5, progress)
            return
        except (OSError, http.client.HTTPException, DataError, ValueError) as e:
            errors.append(f"{url}: {getattr(e, 'reason', None) or e}")
    tried = "; ".join(errors) if errors else "no mirrors configured (NNPLAY_MNIST_MIRROR is empty)"
    raise DataError(f"could not download {fname} ({tried}). Without network access, put the files "
                    f"(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
                    f"t10k-labels-idx1-ubyte.gz; .gz or unpacked) into {target.parent}")


def _fetch_url(url: str, target: Path, md5: str | None, progress) -> None:
    """Stream `url` into a temp file beside `target`, verify size and MD5, then rename atomically."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        h = hashlib.md5(usedforsecurity=False)
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=TIMEOUT) as resp:
            total = int(resp.headers.get("Content-Length") or 0)
            got = 0
            while block := resp.read(CHUNK):
                out.write(block)
                h.update(block)
                got += len(block)
                _progress(progress, target.name, got, total)
            if total and got != total:
                raise DataError(f"truncated download: got {got} of {total} bytes")
        if md5 is not None and h.hexdigest() != md5:
            raise DataError(f"checksum mismatch: MD5 {h.hexdigest()}, expected {md5}")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        _progress_done(progress)


def _progress(stream, name: str, got: int, total: int) -> None:
    if stream is None:
        return
    width = 30
    if total:
        filled = int(width * got / total)
        bar = "#" * filled + "." * (width - filled)
        stream.write(f"\r{name} [{bar}] {100 * got / total:5.1f}% {got / 1e6:.1f}/{total / 1e6:.1f} MB")
    else:
        stream.write(f"\r{name} {got / 1e6:.1f} MB")
    stream.flush()


def _progress_done(stream) -> None:
    if stream is not None:
        stream.write("\n")
        stream.flush()
