"""Shared helpers for the benchmark scripts: thread settings, arguments, MNIST folder, table printing.

Importing this module never imports numpy, so `set_threads_from_argv()` can run before numpy loads
(OpenBLAS reads its thread count once, when the library is first loaded).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MNIST = REPO.parent / "shared" / "data" / "mnist"          # <repo>/../shared/data/mnist
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

if str(REPO) not in sys.path:   # run from anywhere without installing the package
    sys.path.insert(0, str(REPO))


def set_threads_from_argv(argv: list[str] | None = None) -> None:
    """Apply `--threads N` (or `--threads=N`) to the BLAS/OpenMP environment. Call before importing numpy."""
    argv = sys.argv[1:] if argv is None else argv
    value = None
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--threads="):
            value = arg.split("=", 1)[1]
    if value is not None and any(os.environ.get(var) != value for var in THREAD_VARS):
        if "numpy" in sys.modules:
            print("warning: numpy was imported before --threads was applied; it may not take effect",
                  file=sys.stderr)
        for var in THREAD_VARS:
            os.environ[var] = value


def apply_engine_threads(threads: int | None) -> None:
    """After numpy has loaded: give the engine's batch split `--threads` (engine/parallel.py), as the server's
    workers and `nnplay train` do; it runs BLAS on one thread per block, so PyTorch's N threads face the
    engine's N threads, not N BLAS threads."""
    if threads:
        from engine import parallel
        parallel.set_threads(threads)


def base_parser(description: str, epochs: int) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--mnist-dir", type=Path, default=None,
                        help=f"folder with the four MNIST IDX files (.gz or raw); default $MNIST_DIR, "
                             f"else {DEFAULT_MNIST}")
    parser.add_argument("--epochs", type=int, default=epochs, help=f"epochs to train (default {epochs})")
    parser.add_argument("--limit", type=int, default=None, help="use only the first n training images")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS/OpenMP threads (sets OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS "
                             "before numpy loads); default: leave the environment as it is")
    parser.add_argument("--seed", type=int, default=0, help="seed for initialisation and shuffling")
    return parser


def has_mnist(folder: Path) -> bool:
    return all((folder / name).is_file() or (folder / (name + ".gz")).is_file() for name in MNIST_FILES)


def mnist_dir(given: Path | None) -> Path:
    """The MNIST folder from --mnist-dir, $MNIST_DIR or the default; exits with a clear message if absent."""
    if given is not None:
        folder = given
    elif os.environ.get("MNIST_DIR"):
        folder = Path(os.environ["MNIST_DIR"])
    else:
        folder = DEFAULT_MNIST
    folder = folder.expanduser().resolve()
    if not has_mnist(folder):
        sys.exit(f"MNIST IDX files not found in {folder} (need {', '.join(MNIST_FILES)}, .gz or raw); "
                 f"pass --mnist-dir or set $MNIST_DIR")
    return folder


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "n/a"
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def engine_version() -> str:
    """The commit the engine was loaded from, marked when engine/ had uncommitted changes (others edit the tree)."""
    import subprocess
    def git(*args):
        return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True).stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + (" + uncommitted engine/ changes" if git("status", "--porcelain", "--", "engine") else "")


def environment_lines() -> list[str]:
    """Machine facts that decide a timing: CPUs, load, thread settings, library versions, engine commit."""
    import numpy as np
    from engine import parallel
    threads = ", ".join(f"{v}={os.environ[v]}" for v in THREAD_VARS if v in os.environ) or "unset"
    return [f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
            f"load average {load_average()}, threads: {threads}, engine batch split: {parallel.threads()} "
            f"thread(s)", f"engine at {engine_version()}"]


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub-markdown table, columns padded so it also reads well in a terminal."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    def line(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule] + [line(r) for r in rows])
