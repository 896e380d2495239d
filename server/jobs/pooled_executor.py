"""PooledExecutor: light jobs share a warm pool of worker processes (server/jobs/pool.py), heavy jobs get a
process each (LocalProcessExecutor). The lane comes from the engine's cost estimate (engine/cost.py), which
the manager passes with the job (`submit(..., lane=)`).

- Start: a light job goes to the live pool process running the fewest jobs; the process already imported
  the engine, so its first epoch follows within milliseconds.
- Messages: one reader thread per pool process turns its bundles into messages.Event / Finished / Failed
  and posts everything waiting in one call to the event loop.
- Cancel: the cancel command, then, if the job's thread has not ended after `cancel_grace`, the job is
  reported stopped and abandoned (a thread cannot be killed; anything it says later is dropped). A light
  job's batch takes milliseconds, so this is a last resort.
- A pool process that dies fails its unfinished light jobs (one Failed each, LOST_WORKER) and is replaced.
"""
from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import threading
import time
from dataclasses import dataclass, field

from .artifacts import ArtifactStore
from .executor import LocalProcessExecutor, _exit_text
from .fanout import Outgoing
from .messages import LOST_WORKER, Event, Failed, Finished
from .pool import pool_main, unpack
from .worker import init_option

READ_BATCH = 500   # messages taken from a pool process's queue per post to the loop, at most
# a reader gathers what its process says for this long before posting it: one loop wake-up and one SQLite
# transaction (the recorder's) per window instead of one per bundle (a class of 30 sent ~600 bundles a second)
GATHER_SECONDS = 0.01
# CPU shares on a busy machine (Linux CFS weights): the server at 0 (1024), light jobs' pool processes at 5
# (335, pool.LIGHT_NICENESS), heavy jobs at 15 (36): light jobs get ~90% of what heavy ones contend for
HEAVY_NICENESS = 15


@dataclass
class _Light:
    process: "_PoolProcess"
    ended: threading.Event = field(default_factory=threading.Event)
    cancelling: bool = False


@dataclass
class _PoolProcess:
    process: mp.Process
    inbox: mp.Queue
    outbox: "mp.connection.Connection"
    jobs: set[str] = field(default_factory=set)
    thread: threading.Thread | None = None


class PooledExecutor:
    name = "local"

    def __init__(self, heavy: LocalProcessExecutor, processes: int = 2, train_path: str = "engine:train",
                 checkpoint_seconds: float = 2.0, cancel_grace: float = 3.0, start_method: str = "spawn",
                 default_lane: str = "heavy"):
        """`default_lane`: where a job submitted without a lane goes (the contract tests run the pool with "light")."""
        self.heavy, self.default_lane = heavy, default_lane
        self.ctx = mp.get_context(start_method)
        self.n_processes = max(1, processes)
        self.train_path, self.checkpoint_seconds, self.cancel_grace = train_path, checkpoint_seconds, cancel_grace
        self.pool: list[_PoolProcess] = []
        self.light: dict[str, _Light] = {}
        self.lock = threading.Lock()     # light / pool membership: reader threads and the loop both change it
        self.artifacts: ArtifactStore | None = None
        self.stopping = False

    # -- life cycle -------------------------------------------------------------------------------
    def start(self, artifacts: ArtifactStore) -> None:
        self.heavy.start(artifacts)
        self.artifacts, self.out = artifacts, self.heavy.out   # one queue of messages for both lanes
        for _ in range(self.n_processes):
            self.pool.append(self._spawn())

    def _spawn(self) -> _PoolProcess:
        inbox = self.ctx.Queue()
        outbox, writer = self.ctx.Pipe(duplex=False)   # the process gets the only write end (pool.Outbox)
        process = self.ctx.Process(target=pool_main, name="nnplay-pool", daemon=True,
                                   args=(inbox, writer, self.train_path, self.checkpoint_seconds, os.getpid()))
        worker = _PoolProcess(process, inbox, outbox)
        process.start()
        writer.close()   # so that its death reads as EOF here, even in the middle of a message
        worker.thread = threading.Thread(target=self._read, args=(worker,), daemon=True, name="nnplay-pool-reader")
        worker.thread.start()
        return worker

    def describe(self) -> dict:
        return {"executor": self.name, "pool_processes": len(self.pool),
                "light_jobs": len(self.light), "heavy_jobs": len(self.heavy.workers)}

    # -- jobs -------------------------------------------------------------------------------------
    def submit(self, job_id: str, spec: dict, commands: list[dict] | None = None, init_from: str | None = None,
               limits=None, init_layers: list[int] | None = None, lane: str | None = None) -> None:
        if (lane or self.default_lane) != "light":
            self.heavy.submit(job_id, spec, commands, init_from=init_from, limits=limits, init_layers=init_layers)
            self._lower_priority(job_id)
            return
        init_path = init_option(self.artifacts.path(init_from), init_layers) if init_from else None
        with self.lock:
            worker = min((w for w in self.pool if w.process.is_alive()), key=lambda w: len(w.jobs), default=None)
            if worker is None:
                worker = self._spawn()
                self.pool.append(worker)
            worker.jobs.add(job_id)
            self.light[job_id] = _Light(worker)
        worker.inbox.put(("start", job_id, spec, self.artifacts.path(job_id), list(commands or []), init_path, limits))

    def _lower_priority(self, job_id: str) -> None:
        """A heavy job's process yields the cores to light jobs (and the server) whenever they want them."""
        worker = self.heavy.workers.get(job_id)
        if worker is None or worker.process.pid is None:
            return
        try:
            os.setpriority(os.PRIO_PROCESS, worker.process.pid, HEAVY_NICENESS)
        except OSError:
            pass

    def send_command(self, job_id: str, command: dict) -> bool:
        job = self.light.get(job_id)
        if job is None:
            return self.heavy.send_command(job_id, command)
        if job.ended.is_set() or not job.process.process.is_alive():
            return False
        job.process.inbox.put(("command", job_id, command))
        return True

    async def cancel(self, job_id: str) -> None:
        job = self.light.get(job_id)
        if job is None:
            await self.heavy.cancel(job_id)
            return
        job.cancelling = True
        job.process.inbox.put(("command", job_id, {"cmd": "cancel"}))
        if not await asyncio.to_thread(job.ended.wait, self.cancel_grace):
            self._end(job_id, Finished(job_id, "stopped", f"cancelled; the job did not stop within "
                                       f"{self.cancel_grace:g} s and was abandoned", None, self._artifact(job_id)))

    def messages(self):
        return self.heavy.messages()

    async def shutdown(self) -> None:
        self.stopping = True
        for worker in self.pool:
            if worker.process.is_alive():
                worker.process.kill()
        for worker in self.pool:
            await asyncio.to_thread(worker.process.join, 2.0)
        await self.heavy.shutdown()

    # -- the reader side ------------------------------------------------------------------------------
    def _artifact(self, job_id: str) -> str | None:
        return job_id if self.artifacts.exists(job_id) else None

    def _end(self, job_id: str, message, out: list | None = None) -> None:
        """Post `message` as the job's one terminal message (to `out` when the reader is collecting a batch)."""
        with self.lock:
            job = self.light.pop(job_id, None)
            if job is None:
                return
            job.process.jobs.discard(job_id)
        job.ended.set()
        if out is not None:
            out.append(message)
        else:
            self.out.post(message)

    def _convert(self, item: tuple, out: list) -> None:
        kind, job_id, payload = item
        if job_id not in self.light:
            return           # ended already (abandoned after a cancel): say nothing more
        if kind == "events":
            out.extend(Event(job_id, event if isinstance(event, dict)
                             else Outgoing.encoded_as(event[2], type=event[0], epoch=event[1])) for event in payload)
        elif kind == "result":
            self._end(job_id, Finished(job_id, payload.get("outcome") or "completed", payload.get("message"),
                                       payload.get("best_epoch"), self._artifact(job_id)), out)
        elif kind == "error":
            self._end(job_id, Failed(job_id, payload.get("message") or "training failed"), out)

    def _read(self, worker: _PoolProcess) -> None:
        """Forward a pool process's messages in batches; when it dies, fail its jobs and replace it."""
        conn = worker.outbox
        try:
            while True:
                if not conn.poll(0.2):
                    if worker.process.is_alive():
                        continue
                    self._forward(self._take(conn))   # what it said just before it died
                    break
                items = [unpack(conn.recv_bytes())]
                items += self._gather(conn)
                self._forward(items)
        except (EOFError, OSError):   # the process is gone (perhaps mid-message)
            pass
        self._lost(worker)

    def _gather(self, conn) -> list:
        """What arrives within GATHER_SECONDS (at most READ_BATCH messages); EOF ends it early."""
        items: list = []
        deadline = time.monotonic() + GATHER_SECONDS
        try:
            while len(items) < READ_BATCH:
                left = deadline - time.monotonic()
                if left <= 0 or not conn.poll(left):
                    break
                items.append(unpack(conn.recv_bytes()))
        except (EOFError, OSError):
            pass
        return items + self._take(conn)

    def _take(self, conn) -> list:
        items: list = []
        try:
            while len(items) < READ_BATCH and conn.poll(0):
                items.append(unpack(conn.recv_bytes()))
        except (EOFError, OSError):
            pass
        return items

    def _forward(self, items: list) -> None:
        out: list = []
        for item in items:
            if item[0] == "ready":
                continue
            self._convert(item, out)
        if out:
            self._post_all(out)

    def _post_all(self, messages: list) -> None:
        post_many = getattr(self.out, "post_many", None)
        if post_many is not None:
            post_many(messages)
        else:
            for m in messages:
                self.out.post(m)

    def _lost(self, worker: _PoolProcess) -> None:
        worker.process.join()
        reason = _exit_text(worker.process.exitcode)
        with self.lock:
            if worker in self.pool:
                self.pool.remove(worker)
            orphans = list(worker.jobs)
        for job_id in orphans:
            self._end(job_id, Failed(job_id, LOST_WORKER.format(reason=reason)))
        worker.inbox.cancel_join_thread()
        worker.inbox.close()
        worker.outbox.close()
        if not self.stopping:
            with self.lock:
                self.pool.append(self._spawn())
