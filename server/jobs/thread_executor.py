"""ThreadExecutor: jobs train in threads of the server process (fast tests; no process start, no isolation).

A thread cannot be killed: a job that ignores its cancel command for `cancel_grace` seconds is reported
stopped and abandoned (its thread runs on as a daemon, and anything it says afterwards is dropped), so the
job still gets exactly one terminal message. A crash of the job (an exception that is not an Exception, e.g.
SystemExit) is a Failed, like a worker process that died.
"""
from __future__ import annotations

import asyncio
import queue
import threading
import traceback
from dataclasses import dataclass, field
from typing import AsyncIterator

from .artifacts import ArtifactStore
from .executor import MessageQueue
from .messages import LOST_WORKER, Event, Failed, Finished, Message
from .worker import CommandReader, error_message, init_option, load_function, train_job


@dataclass
class _Job:
    commands: queue.Queue = field(default_factory=queue.Queue)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ended: bool = False            # its terminal message was posted: say nothing more
    thread: threading.Thread | None = None


class ThreadExecutor:
    name = "thread"

    def __init__(self, train_path: str = "engine:train", checkpoint_seconds: float = 2.0, cancel_grace: float = 3.0):
        self.train_path = train_path
        self.checkpoint_seconds = checkpoint_seconds
        self.cancel_grace = cancel_grace
        self.jobs: dict[str, _Job] = {}
        self.artifacts: ArtifactStore | None = None
        self.out = MessageQueue()

    def start(self, artifacts: ArtifactStore) -> None:
        self.artifacts = artifacts
        self.out.bind()

    def describe(self) -> dict:
        return {"executor": self.name}

    def submit(self, job_id: str, spec: dict, commands: list[dict] | None = None, init_from: str | None = None,
               limits=None, init_layers: list[int] | None = None, lane: str | None = None) -> None:
        job = _Job()
        for command in commands or []:
            job.commands.put(command)
        init_path = init_option(self.artifacts.path(init_from), init_layers) if init_from else None
        job.thread = threading.Thread(target=self._run, args=(job_id, job, spec, init_path, limits), daemon=True,
                                      name=f"nnplay-job-{job_id}")
        self.jobs[job_id] = job
        job.thread.start()

    def _say(self, job_id: str, job: _Job, message: Message) -> None:
        with job.lock:
            if job.ended:
                return
            if not isinstance(message, Event):
                job.ended = True
                self.jobs.pop(job_id, None)
            self.out.post(message)

    def _run(self, job_id: str, job: _Job, spec: dict, init_path, limits) -> None:
        path = self.artifacts.path(job_id)
        try:
            train = load_function(self.train_path)
            result = train_job(spec, train, lambda e: self._say(job_id, job, Event(job_id, e)),
                               CommandReader(job.commands), path, self.checkpoint_seconds, init_path, limits)
            artifact = job_id if self.artifacts.exists(job_id) else None
            ending = Finished(job_id, result["outcome"], result["message"], result["best_epoch"], artifact)
        except Exception as e:  # noqa: BLE001  a job's failure is reported, never raised into the server
            traceback.print_exc()
            ending = Failed(job_id, error_message(e))
        except BaseException as e:  # SystemExit and the like: the thread's "process" died
            ending = Failed(job_id, LOST_WORKER.format(reason=f"{type(e).__name__}: {e}"))
        self._say(job_id, job, ending)

    def send_command(self, job_id: str, command: dict) -> bool:
        job = self.jobs.get(job_id)
        if job is None or job.ended:
            return False
        job.commands.put(command)
        return True

    async def cancel(self, job_id: str) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            return
        job.commands.put({"cmd": "cancel"})
        await asyncio.to_thread(job.thread.join, self.cancel_grace)
        if job.thread.is_alive():
            self._say(job_id, job, Finished(
                job_id, "stopped", f"cancelled; the job's thread did not stop within {self.cancel_grace:g} s "
                                   "and was abandoned", None, job_id if self.artifacts.exists(job_id) else None))

    def messages(self) -> AsyncIterator[list[Message]]:
        return self.out.batches()

    async def shutdown(self) -> None:
        jobs = list(self.jobs.items())
        for job_id, job in jobs:
            with job.lock:
                job.ended = True  # the server is stopping: nothing more is owed
            job.commands.put({"cmd": "cancel"})
        for _, job in jobs:
            await asyncio.to_thread(job.thread.join, 2.0)
        self.jobs.clear()
