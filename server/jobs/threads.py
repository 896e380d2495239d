"""The thread policy for training jobs: how many threads each job's engine may use.

A job's N threads go to the engine's batch split (engine/parallel.py): each heavy layer (conv2d, dense,
pooling, activations) computes its batch as N row blocks at once, with OpenBLAS on one thread per block.
BLAS threads alone left a CNN's second core idle: about 40% of a step is NumPy copies, ReLU and pooling that
no BLAS thread touches. A job's process is therefore started with the BLAS variables at 1 (set_thread_env).

`auto` (the default, `nnplay serve --threads auto`, NNPLAY_THREADS): a job that trains alone gets the cores
nobody else is using, all of them on an idle machine; while two or more jobs train, each gets one thread.
One thread is what a busy machine needs: a thread waiting for a core another process holds stalls its whole
batch (measured on a loaded 2-core machine: a conv layer's GEMMs became 24x slower with 2 BLAS threads).
"Nobody else" is the 1-minute load average less the threads of this server's own training jobs. The executor
applies the policy when a job starts, when a job starts or ends, and every REBALANCE_SECONDS while jobs
train: running workers are told their new count through their command queue (`THREADS_COMMAND`, applied by
the worker itself with `apply_job_threads` between two batches; the trainer never sees it). A number N
instead of auto gives every job N threads, fixed. A run is bit-identical to itself for a given count; a
different count changes the summation order of the weight gradients (float rounding, as BLAS threads did).
"""
from __future__ import annotations

import os
import sys

AUTO = "auto"
REBALANCE_SECONDS = 15.0          # how often a running job's count is checked against the machine's load
THREADS_COMMAND = "_blas_threads"   # {"cmd": THREADS_COMMAND, "threads": n}: server -> worker, never to the trainer


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
    """Threads for each job while `running` jobs (this one included) train on `cores` cores, with other
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


def apply_job_threads(n: int) -> None:
    """Give this process's training job n threads (engine/parallel.py's batch split, one BLAS thread each)."""
    if n == 1 and "engine.parallel" not in sys.modules:
        return                                   # nothing split yet and BLAS at 1: no engine import needed
    from engine.parallel import set_threads     # imported here: numpy must load after set_thread_env
    set_threads(n)


def set_blas_threads(n: int) -> bool:
    """Change the loaded OpenBLAS's thread count at run time; False when no OpenBLAS is loaded (nothing to do)."""
    from engine.parallel import set_blas_threads as set_loaded
    return set_loaded(n)


def _loaded_openblas() -> list[str]:
    from engine.parallel import _loaded_openblas as loaded
    return loaded()
