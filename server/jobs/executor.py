"""Executors run one job each and report what happens as (job_id, kind, payload) messages.

`Executor` is the interface the manager uses; `LocalProcessExecutor` runs every job in its own
process (spawn context) so a crash, a MemoryError or a job stuck inside NumPy never touches the server.
A distributed executor only has to implement the same five methods.
"""
from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import queue
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import AsyncIterator, Protocol

from .threads import AUTO, REBALANCE_SECONDS, THREADS_COMMAND, job_threads, others_busy
from .worker import run_job

Message = tuple[str, str, dict]  # (job_id, kind, payload); kinds: event, result, error, exited


class Executor(Protocol):
    def submit(self, job_id: str, spec: dict, model_path: str, commands: list[dict] | None = None,
               init_from: str | None = None, limits=None) -> None: ...
    def send_command(self, job_id: str, command: dict) -> bool: ...
    async def cancel(self, job_id: str) -> None: ...
    def events(self) -> AsyncIterator[list[Message]]: ...
    async def shutdown(self) -> None: ...


@dataclass
class _Worker:
    process: mp.Process
    events: mp.Queue
    commands: mp.Queue
    finished: bool = False          # a result or error arrived
    cancelling: bool = False
    threads: int = 1                # BLAS threads the worker was last given (server/jobs/threads.py)
    thread: threading.Thread | None = field(default=None, repr=False)


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class LocalProcessExecutor:
    """One spawned process per job; a reader thread per job forwards its queue to the event loop."""

    def __init__(self, threads: int | str = AUTO, train_path: str = "engine:train",
                 checkpoint_seconds: float = 2.0, cancel_grace: float = 3.0, start_method: str = "spawn",
                 cores: int | None = None):
        self.ctx = mp.get_context(start_method)
        self.threads = threads              # the policy: AUTO or a fixed count per job
        self.cores = cores or os.cpu_count() or 1
        self._threads_lock = threading.Lock()
        self._last_rebalance = 0.0
        self.train_path = train_path
        self.checkpoint_seconds = checkpoint_seconds
        self.cancel_grace = cancel_grace
        self.workers: dict[str, _Worker] = {}
        self._out: asyncio.Queue[Message] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _bind_loop(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._out = asyncio.Queue()

    def submit(self, job_id: str, spec: dict, model_path: str, commands: list[dict] | None = None,
               init_from: str | None = None, limits=None) -> None:
        """Start a worker on the normalized `spec`; `init_from`: a model file to start from; `limits`: the
        engine.Limits the spec was validated under (the epoch cap for `training.epochs` null)."""
        self._bind_loop()
        events, command_queue = self.ctx.Queue(), self.ctx.Queue()
        for command in commands or []:
            command_queue.put(command)  # e.g. a pause sent while the job was queued
        with self._threads_lock:
            training = self._training()
            threads = job_threads(self.threads, self.cores, len(training) + 1,
                                  self._busy(sum(w.threads for w in training)))
            process = self.ctx.Process(
                target=run_job, name=f"nnplay-job-{job_id}", daemon=True,
                args=(job_id, spec, model_path, events, command_queue, threads, self.train_path,
                      self.checkpoint_seconds, os.getpid(), init_from, limits))
            worker = _Worker(process, events, command_queue, threads=threads)
            self.workers[job_id] = worker
            process.start()
        self._rebalance()
        worker.thread = threading.Thread(target=self._read, args=(job_id, worker), daemon=True,
                                         name=f"nnplay-reader-{job_id}")
        worker.thread.start()

    def _training(self) -> list[_Worker]:
        return [w for w in self.workers.values() if not w.finished and w.process.is_alive()]

    def _rebalance(self) -> None:
        """After a job starts or ends: give every training worker the policy's count for the jobs now
        training (a lone job gets every core back; a second job brings the first down to one thread)."""
        with self._threads_lock:
            self._last_rebalance = time.monotonic()
            training = self._training()
            threads = job_threads(self.threads, self.cores, len(training),
                                  self._busy(sum(w.threads for w in training)))
            for worker in training:
                if worker.threads != threads:
                    worker.threads = threads
                    try:
                        worker.commands.put({"cmd": THREADS_COMMAND, "threads": threads})
                    except (ValueError, OSError):   # its queue closed as the process ended
                        pass

    def _busy(self, own_threads: int) -> float:
        """Cores other processes keep busy (only the auto policy asks; tests may replace this)."""
        return others_busy(own_threads) if self.threads == AUTO else 0.0

    def _post(self, job_id: str, kind: str, payload: dict) -> None:
        try:
            self._loop.call_soon_threadsafe(self._out.put_nowait, (job_id, kind, payload))
        except RuntimeError:  # the loop is closed: the server is shutting down
            pass

    def _read(self, job_id: str, worker: _Worker) -> None:
        """Forward the worker's messages; when the process is gone, drain and report how it ended."""
        while True:
            try:
                kind, payload = worker.events.get(timeout=0.2)
            except queue.Empty:
                if worker.process.is_alive():
                    if self.threads == AUTO and time.monotonic() - self._last_rebalance > REBALANCE_SECONDS:
                        self._rebalance()   # the machine's load moves: a lone job gives back or takes a core
                    continue
                self._drain(job_id, worker)
                break
            except (EOFError, OSError):
                break
            if kind in ("result", "error"):
                worker.finished = True
                self._rebalance()
            self._post(job_id, kind, payload)
        worker.process.join()
        self._rebalance()
        code = worker.process.exitcode
        self._post(job_id, "exited", {"exitcode": code, "finished": worker.finished,
                                      "cancelled": worker.cancelling, "reason": _exit_text(code)})
        for q in (worker.events, worker.commands):
            q.cancel_join_thread()
            q.close()

    def _drain(self, job_id: str, worker: _Worker) -> None:
        while True:
            try:
                kind, payload = worker.events.get(timeout=0.05)
            except (queue.Empty, EOFError, OSError):
                return
            if kind in ("result", "error"):
                worker.finished = True
            self._post(job_id, kind, payload)

    def send_command(self, job_id: str, command: dict) -> bool:
        worker = self.workers.get(job_id)
        if worker is None or not worker.process.is_alive():
            return False
        worker.commands.put(command)
        return True

    async def cancel(self, job_id: str) -> None:
        """Ask nicely, then terminate after the grace period, then kill."""
        worker = self.workers.get(job_id)
        if worker is None:
            return
        worker.cancelling = True
        if worker.process.is_alive():
            worker.commands.put({"cmd": "cancel"})
        for stop, wait in ((None, self.cancel_grace), (worker.process.terminate, 2.0), (worker.process.kill, 2.0)):
            if stop is not None and worker.process.is_alive():
                stop()
            await asyncio.to_thread(worker.process.join, wait)
            if not worker.process.is_alive():
                return

    def forget(self, job_id: str) -> None:
        self.workers.pop(job_id, None)

    async def events(self) -> AsyncIterator[list[Message]]:
        """Batches of messages in arrival order (a batch is everything waiting, up to 2000)."""
        self._bind_loop()
        while True:
            batch = [await self._out.get()]
            while not self._out.empty() and len(batch) < 2000:
                batch.append(self._out.get_nowait())
            yield batch

    async def shutdown(self) -> None:
        for worker in list(self.workers.values()):
            if worker.process.is_alive():
                worker.process.kill()
        for worker in list(self.workers.values()):
            await asyncio.to_thread(worker.process.join, 2.0)
            if worker.thread is not None:
                await asyncio.to_thread(worker.thread.join, 1.0)
