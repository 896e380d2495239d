"""Batch split: one job's heavy layers computed as row blocks of the batch on a few threads.

Why: with two cores, OpenBLAS can split a GEMM, but about 40% of a CNN step is NumPy work no BLAS thread
touches (im2col and transposed copies, ReLU, pooling, col2im). NumPy releases the GIL inside large array
operations, so the same layer code run on rows [0, n/2) and [n/2, n) by two threads uses both cores for
all of it. While the batch is split, OpenBLAS runs one thread per caller (two OpenBLAS thread pools
called at once would put four threads on two cores; its idle workers spin while NumPy runs).

Contract (engine/layers/rows.py implements it for conv2d, dense, pooling and activation layers):
- `parts(rows, work)`: the row blocks a layer's batch is split into; one block (no split) with one thread,
  for small batches and for cheap layers (work = values the layer reads and writes per batch);
- `run(fn, blocks)`: fn(i, rows) for every block, block 0 on the calling thread, the others on the pool's
  threads; returns when all are done and re-raises the first error. Blocks write disjoint rows; a weight
  gradient is one partial sum per block, added in block order by the caller (so a run is bit-identical to
  itself for a given thread count; against one thread it differs by float rounding, as BLAS threads do).
- Batch-coupled layers (batchnorm) are not split: their statistics need the whole batch.
Jobs that share a process (the warm pool's light jobs, the thread executor) may call run at the same time:
only one uses the pool's threads, the others compute their blocks in turn on their own thread.
"""
from __future__ import annotations

import ctypes
import os
import queue
import threading

MIN_SPLIT_VALUES = 65_536    # below ~256 KB of float32 a layer pass takes < ~50 us: a thread handoff costs more
# OpenBLAS's runtime setter, as numpy's bundled scipy-openblas (64-bit ints) and a system OpenBLAS name it
BLAS_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads", "openblas_set_num_threads64_",
                "openblas_set_num_threads")


class BatchSplit:
    def __init__(self) -> None:
        self.threads = 1
        self._workers: list[_Worker] = []
        self._busy = threading.Lock()       # held while one caller uses the workers

    def set_threads(self, n: int) -> None:
        """Use n threads for one job's batch (n - 1 workers besides the caller); 1 turns the split off."""
        n = max(1, int(n))
        with self._busy:
            while len(self._workers) < n - 1:
                self._workers.append(_Worker())
            self.threads = n

    def parts(self, rows: int, work: int) -> list[slice]:
        """Row blocks for a batch of `rows` rows whose layer pass touches `work` values in all."""
        k = self.threads
        if k == 1 or rows < 2 * k or work < MIN_SPLIT_VALUES:
            return [slice(0, rows)]
        bounds = [rows * i // k for i in range(k + 1)]
        return [slice(bounds[i], bounds[i + 1]) for i in range(k)]

    def run(self, fn, blocks: list[slice]) -> None:
        """fn(i, block) for every block; the caller runs block 0 while the workers run the rest."""
        if len(blocks) == 1:
            fn(0, blocks[0])
            return
        if not self._busy.acquire(blocking=False):   # another job's split (or a nested one) holds the pool
            for i, block in enumerate(blocks):
                fn(i, block)
            return
        try:
            workers = self._workers[:len(blocks) - 1]
            for w, (i, block) in zip(workers, enumerate(blocks[1:], start=1)):
                w.tasks.put((fn, i, block))
            errors = []
            try:
                fn(0, blocks[0])
            except BaseException as e:     # noqa: BLE001 - re-raised below, after the workers are done
                errors.append(e)
            for w in workers:              # always wait: a worker still writing into shared buffers must finish
                error = w.done.get()
                if error is not None:
                    errors.append(error)
            if errors:
                raise errors[0]
        finally:
            self._busy.release()


class _Worker:
    """A daemon thread that runs one block at a time from its task queue and reports None or the error."""

    def __init__(self) -> None:
        self.tasks: queue.SimpleQueue = queue.SimpleQueue()
        self.done: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._loop, name="nnplay-batch-split", daemon=True).start()

    def _loop(self) -> None:
        while True:
            fn, i, block = self.tasks.get()
            try:
                fn(i, block)
                self.done.put(None)
            except BaseException as e:     # noqa: BLE001 - handed to the caller
                self.done.put(e)


SPLIT = BatchSplit()


def set_threads(n: int) -> None:
    """A job's thread count: n > 1 splits each heavy layer's batch over n threads with one BLAS thread each;
    n == 1 gives one thread to both. Safe to call between batches (the server's rebalancing does)."""
    SPLIT.set_threads(n)
    set_blas_threads(1)


def threads() -> int:
    return SPLIT.threads


def set_blas_threads(n: int) -> bool:
    """Change the loaded OpenBLAS's thread count at run time; False when no OpenBLAS is loaded (nothing to do)."""
    done = False
    for path in _loaded_openblas():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in BLAS_SETTERS:
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
