"""Executors run jobs and report what happens as typed messages (server/jobs/messages.py).

`Executor` is the interface the manager uses (docs/DESIGN.md, "Executors"). `LocalProcessExecutor` runs every
job in its own process (spawn context), so a crash, a MemoryError or a job stuck inside NumPy never touches the
server; `ThreadExecutor` (thread_executor.py) runs jobs in threads of the server, for fast tests;
`RayExecutor` (ray_executor.py) runs each job as a task on a Ray cluster. One contract suite
(tests/server/test_executor_contract.py) runs against each.
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

from .artifacts import ArtifactStore
from .messages import LOST_WORKER, STOPPED_WORKER, Event, Failed, Finished, Message
from .threads import AUTO, REBALANCE_SECONDS, THREADS_COMMAND, job_threads, others_busy
from .worker import init_option, run_job


class Executor(Protocol):
    name: str  # "local" | "thread" | "ray": GET /api/health's "executor"
    describe_waits: bool = False  # describe() may wait on something outside (Ray asks its cluster): run it in a thread

    def start(self, artifacts: ArtifactStore) -> None:
        """Called once by the manager, on its event loop, before any submit: where models go."""

    def submit(self, job_id: str, spec: dict, commands: list[dict] | None = None, init_from: str | None = None,
               limits=None, init_layers: list[int] | None = None, lane: str | None = None) -> None:
        """Start training the normalized `spec` (never blocks the loop). `commands`: sent while it was queued,
        delivered first; `init_from`: a job id whose artifact the job starts from (`init_layers`: only those
        layers' weights, fine-tuning); `limits`: the engine.Limits the spec was validated under; `lane`: the
        admission lane ("light" | "heavy", from engine/cost.py), a placement hint (PooledExecutor runs light
        jobs in its warm pool; the others ignore it)."""

    def send_command(self, job_id: str, command: dict) -> bool:
        """Deliver a checked command; False when the job is not running here (any more)."""

    async def cancel(self, job_id: str) -> None:
        """Stop the job: a cancel command first, then force; returns once it is stopped (its terminal
        message is on its way) or when forcing gave up."""

    def messages(self) -> AsyncIterator[list[Message]]:
        """Batches of messages in arrival order; per job: Events, then exactly one Finished or Failed."""

    def describe(self) -> dict:
        """{"executor": name, ...}: what GET /api/health reports (Ray adds its address and nodes)."""

    async def shutdown(self) -> None:
        """Stop every job's worker (no terminal messages are owed after this) and release resources."""


class MessageQueue:
    """The loop-side queue every executor feeds from its threads; `batches()` drains it."""

    def __init__(self):
        self._loop: asyncio.AbstractEventLoop | None = None
        self._out: asyncio.Queue[Message] | None = None

    def bind(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._out = asyncio.Queue()

    def post(self, message: Message) -> None:
        """Thread-safe; a message posted after the loop closed (the server is stopping) is dropped."""
        try:
            self._loop.call_soon_threadsafe(self._out.put_nowait, message)
        except RuntimeError:
            pass

    def post_many(self, messages: list[Message]) -> None:
        """Several messages in one wake-up of the loop (a pool process's reader forwards bundles)."""
        def put_all():
            for message in messages:
                self._out.put_nowait(message)
        try:
            self._loop.call_soon_threadsafe(put_all)
        except RuntimeError:
            pass

    async def batches(self, most: int = 2000) -> AsyncIterator[list[Message]]:
        self.bind()
        while True:
            batch = [await self._out.get()]
            while not self._out.empty() and len(batch) < most:
                batch.append(self._out.get_nowait())
            yield batch


@dataclass
class _Worker:
    process: mp.Process
    events: mp.Queue
    commands: mp.Queue
    finished: bool = False          # a result or error arrived: it trains no more
    ending: tuple | None = None     # that ("result" | "error", payload), held until the process exits
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


def terminal_message(job_id: str, ending: tuple | None, cancelled: bool, reason: str,
                     artifacts: ArtifactStore) -> Finished | Failed:
    """The one terminal message of a job whose worker is gone. `ending`: what the worker said last
    (("result", payload) / ("error", payload)) or None when it died without a word."""
    artifact = job_id if artifacts.exists(job_id) else None
    if ending is not None and ending[0] == "result":
        p = ending[1]
        return Finished(job_id, p.get("outcome") or "completed", p.get("message"), p.get("best_epoch"), artifact)
    if ending is not None:
        return Failed(job_id, ending[1].get("message") or "training failed")
    if cancelled:
        return Finished(job_id, "stopped", STOPPED_WORKER.format(reason=reason), None, artifact)
    return Failed(job_id, LOST_WORKER.format(reason=reason))


class LocalProcessExecutor:
    """One spawned process per job; a reader thread per job forwards its queue to the event loop."""

    name = "local"

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
        self.artifacts: ArtifactStore | None = None
        self.out = MessageQueue()

    def start(self, artifacts: ArtifactStore) -> None:
        self.artifacts = artifacts
        self.out.bind()

    def describe(self) -> dict:
        return {"executor": self.name}

    def submit(self, job_id: str, spec: dict, commands: list[dict] | None = None, init_from: str | None = None,
               limits=None, init_layers: list[int] | None = None, lane: str | None = None) -> None:
        events, command_queue = self.ctx.Queue(), self.ctx.Queue()
        for command in commands or []:
            command_queue.put(command)  # e.g. a pause sent while the job was queued
        # the worker shares the server's disk: it writes the local store's file for its job directly
        init_path = init_option(self.artifacts.path(init_from), init_layers) if init_from else None
        with self._threads_lock:
            training = self._training()
            threads = job_threads(self.threads, self.cores, len(training) + 1,
                                  self._busy(sum(w.threads for w in training)))
            process = self.ctx.Process(
                target=run_job, name=f"nnplay-job-{job_id}", daemon=True,
                args=(job_id, spec, self.artifacts.path(job_id), events, command_queue, threads,
                      self.train_path, self.checkpoint_seconds, os.getpid(), init_path, limits))
            worker = _Worker(process, events, command_queue, threads=threads)
            process.start()
            # registered once started: submit runs in a thread (manager._pump), and a shutdown meanwhile
            # must never see a process it cannot join ("can only join a started process")
            self.workers[job_id] = worker
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

    def _read(self, job_id: str, worker: _Worker) -> None:
        """Forward the worker's events; once the process is gone, drain and send the one terminal message."""
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
            self._take(job_id, worker, kind, payload)
        worker.process.join()
        self.workers.pop(job_id, None)
        self._rebalance()
        reason = _exit_text(worker.process.exitcode)
        self.out.post(terminal_message(job_id, worker.ending, worker.cancelling, reason, self.artifacts))
        for q in (worker.events, worker.commands):
            q.cancel_join_thread()
            q.close()

    def _take(self, job_id: str, worker: _Worker, kind: str, payload: dict) -> None:
        if kind == "event":
            if worker.ending is None:
                self.out.post(Event(job_id, payload))
        elif worker.ending is None:
            worker.ending, worker.finished = (kind, payload), True
            self._rebalance()

    def _drain(self, job_id: str, worker: _Worker) -> None:
        while True:
            try:
                kind, payload = worker.events.get(timeout=0.05)
            except (queue.Empty, EOFError, OSError):
                return
            self._take(job_id, worker, kind, payload)

    def send_command(self, job_id: str, command: dict) -> bool:
        worker = self.workers.get(job_id)
        if worker is None or not worker.process.is_alive() or worker.ending is not None:
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

    def messages(self) -> AsyncIterator[list[Message]]:
        return self.out.batches()

    async def shutdown(self) -> None:
        workers = list(self.workers.values())
        for worker in workers:
            if worker.process.is_alive():
                worker.process.kill()
        for worker in workers:
            if worker.process.pid is not None:
                await asyncio.to_thread(worker.process.join, 2.0)
            if worker.thread is not None and worker.thread.ident is not None:   # its submit may not have started it yet
                await asyncio.to_thread(worker.thread.join, 1.0)


def make_executor(settings, train_path: str = "engine:train") -> Executor:
    """The executor `settings.executor` names ("local", "thread" or "ray")."""
    common = {"train_path": train_path, "checkpoint_seconds": settings.checkpoint_seconds,
              "cancel_grace": settings.cancel_grace_seconds}
    if settings.executor == "local":
        heavy = LocalProcessExecutor(threads=settings.threads, **common)
        if settings.pool_processes <= 0:
            return heavy
        from .pooled_executor import PooledExecutor   # light jobs in warm processes, heavy ones as before
        return PooledExecutor(heavy, processes=settings.pool_processes, **common)
    if settings.executor == "thread":
        from .thread_executor import ThreadExecutor
        return ThreadExecutor(**common)
    if settings.executor == "ray":
        from .ray_executor import RayExecutor   # imports Ray itself only when it starts
        return RayExecutor(address=settings.ray_address, **common)
    raise ValueError(f"executor: {settings.executor!r} is not one of local, thread, ray")
