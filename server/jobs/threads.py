"""The BLAS thread policy for training jobs: how many threads each job's NumPy (OpenBLAS) may use.

`auto` (the default, `nnplay serve --threads auto`, NNPLAY_THREADS): a job that trains alone gets the cores
nobody else is using, all of them on an idle machine, so its large products (a CNN's batch-wide im2col GEMMs)
are split over them; while two or more jobs train, each gets one thread. One thread is what a busy machine
needs: OpenBLAS workers spin-wait for a core another process holds (measured on a loaded 2-core machine: a conv
layer's GEMMs became 24x slower with 2 threads). "Nobody else" is the 1-minute load average less the threads
of this server's own training jobs. The executor applies the policy when a job starts, when a job starts or
ends, and every REBALANCE_SECONDS while jobs train: running workers are told their new count through their
command queue (`THREADS_COMMAND`, applied by the worker itself with `set_blas_threads`; the trainer never sees
it). A number N instead of auto gives every job N threads, fixed.
"""
from __future__ import annotations

import ctypes
import os

AUTO = "auto"
REBALANCE_SECONDS = 15.0          # how often a running job's count is checked against the machine's load
THREADS_COMMAND = "_blas_threads"   # {"cmd": THREADS_COMMAND, "threads": n}: server -> worker, never to the trainer
# OpenBLAS's runtime setter, as numpy's bundled scipy-openblas (64-bit ints) and a system OpenBLAS name it
SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads", "openblas_set_num_threads64_",
           "openblas_set_num_threads")


def parse_threads(value: str | int) -> str | int:
    """'auto' or a positive whole number (from the command line or NNPLAY_THREADS) -> AUTO or that int."""
    if isinstance(value, str) and value.strip().lower() == AUTO:
        return AUTO
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = 0
    if isinstance(value, bool) or n < 1:
        raise ValueError(f"threads must be 'auto' or a whole number >= 1, got {value!r}")
    return n


def job_threads(policy: str | int, cores: int, running: int, busy: float = 0.0) -> int:
    """BLAS threads for each job while `running` jobs (this one included) train on `cores` cores, with other
    processes keeping about `busy` cores busy."""
    if policy != AUTO:
        return int(policy)
    if running > 1:
        return 1
    return max(1, min(cores, round(cores - max(0.0, busy))))


def others_busy(own_threads: int) -> float:
    """Cores other processes keep busy: the 1-minute load average less this server's own training threads."""
    try:
        load = os.getloadavg()[0]
    except OSError:     # no load average on this platform: assume an idle machine
        return 0.0
    return max(0.0, load - own_threads)


def set_blas_threads(n: int) -> bool:
    """Change the loaded OpenBLAS's thread count at run time; False when no OpenBLAS is loaded (nothing to do)."""
    done = False
    for path in _loaded_openblas():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in SETTERS:
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(ctypes.c_int(n))
                done = True
                break
    return done


def _loaded_openblas() -> list[str]:
    """Paths of the OpenBLAS libraries this process has loaded (Linux: /proc/self/maps)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line}
    except OSError:
        return []
    return sorted(p for p in paths if os.path.exists(p))
