"""JobManager: the FIFO queue, at most N running jobs, persistence of events and fan-out to clients.

Single writer: one task consumes the executor's message batches, commits them to SQLite (in a
thread) and only then broadcasts them, so a record a client has seen is always on disk.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from .executor import Executor
from .fanout import Subscriber
from .storage import ACTIVE_STATES, FINAL_STATES, Storage

log = logging.getLogger("nnplay.jobs")

OUTCOME_STATUS = {"completed": "completed", "early_stopped": "early_stopped", "diverged": "diverged",
                  "stopped": "cancelled", "cancelled": "cancelled", "failed": "failed"}
COMMANDS = ("pause", "resume", "step", "cancel", "set")


class JobError(Exception):
    """An API-level refusal: `status` is the HTTP code the route should answer with."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class LiveJob:
    id: str
    status: str = "queued"
    epoch: int = 0
    best: dict | None = None
    best_key: tuple[str, int] = ("train_loss", 1)  # (metric, +1 lower is better / -1 higher is better)
    frames: dict[str, dict] = field(default_factory=dict)
    subscribers: set[Subscriber] = field(default_factory=set)
    pending_commands: list[dict] = field(default_factory=list)
    cancel_requested: bool = False
    finalized: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)


def check_command(command: object) -> dict:
    """Validate a command dict; returns it normalised or raises JobError(422)."""
    if not isinstance(command, dict) or command.get("cmd") not in COMMANDS:
        got = command.get("cmd") if isinstance(command, dict) else command
        raise JobError(422, f"cmd: must be one of {', '.join(COMMANDS)}; got {got!r}")
    if command["cmd"] == "set":
        lr = command.get("learning_rate")
        extra = set(command) - {"cmd", "learning_rate"}
        if extra:
            raise JobError(422, f"set: unknown option(s) {', '.join(sorted(extra))}; allowed: learning_rate")
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not (0 < lr <= 10) or lr != lr:
            raise JobError(422, f"learning_rate: must be a number > 0 and <= 10, got {lr!r}")
        return {"cmd": "set", "learning_rate": float(lr)}
    return {"cmd": command["cmd"]}


def best_key_for(spec: dict) -> tuple[str, int]:
    stopping = (spec.get("training") or {}).get("early_stopping") or {}
    metric = stopping.get("monitor") or "val_loss"
    return metric, (1 if "loss" in metric else -1)


class JobManager:
    def __init__(self, storage: Storage, executor: Executor, models_dir: Path, max_running: int = 1,
                 max_queued: int = 32):
        self.storage = storage
        self.executor = executor
        self.models_dir = Path(models_dir)
        self.models_dir.mkdir(parents=True, exist_ok=True)
        self.max_running = max(1, max_running)
        self.max_queued = max_queued
        self.queue: deque[str] = deque()
        self.running: set[str] = set()
        self.live: dict[str, LiveJob] = {}
        self._task: asyncio.Task | None = None

    # -- life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        ids = await asyncio.to_thread(
            self.storage.mark_interrupted, "the server stopped while this job was queued or running")
        if ids:
            log.warning("marked %d unfinished job(s) interrupted", len(ids))
        self._task = asyncio.create_task(self._consume(), name="nnplay-job-events")

    async def shutdown(self) -> None:
        for job_id in list(self.live):
            await self._finish(job_id, "interrupted", None, "the server shut down while this job was active")
        if self._task:
            self._task.cancel()
        await self.executor.shutdown()

    def model_path(self, job_id: str) -> str:
        return str(self.models_dir / f"{job_id}.npz")

    # -- queries ------------------------------------------------------------------------------
    def queue_position(self, job_id: str) -> int | None:
        try:
            return self.queue.index(job_id) + 1
        except ValueError:
            return None

    def public(self, job: dict) -> dict:
        live = self.live.get(job["id"])
        epochs = job["epochs"] or 0
        out = {key: job[key] for key in ("id", "status", "spec", "created_at", "started_at", "finished_at",
                                         "epoch", "epochs", "latest", "best", "outcome", "message", "summary")}
        if live is not None:
            out["status"] = live.status
        out["progress"] = round(min(1.0, job["epoch"] / epochs), 4) if epochs else 0.0
        out["queue_position"] = self.queue_position(job["id"])
        out["n_params"] = job["n_params"]
        out["has_model"] = bool(job["model_path"]) and os.path.exists(job["model_path"])
        return out

    async def get_job(self, job_id: str) -> dict:
        job = await asyncio.to_thread(self.storage.get_job, job_id)
        if job is None:
            raise JobError(404, f"job {job_id!r} not found")
        return job

    async def list_jobs(self, status: str | None, limit: int, offset: int) -> tuple[list[dict], int]:
        return await asyncio.to_thread(self.storage.list_jobs, status, limit, offset)

    # -- mutations ----------------------------------------------------------------------------
    async def create_job(self, spec: dict, summary: list | None = None, n_params: int | None = None) -> dict:
        if len(self.queue) >= self.max_queued:
            raise JobError(429, f"too many queued jobs ({len(self.queue)}; limit max_queued_jobs = "
                                f"{self.max_queued}); wait for some to finish or cancel them")
        epochs = int((spec.get("training") or {}).get("epochs") or 0)
        job = await asyncio.to_thread(self.storage.create_job, spec, epochs)
        await asyncio.to_thread(self.storage.update_job, job["id"], summary=summary, n_params=n_params)
        job["summary"], job["n_params"] = summary, n_params
        self.live[job["id"]] = LiveJob(job["id"], best_key=best_key_for(spec))
        self.queue.append(job["id"])
        await self._pump()
        return await self.get_job(job["id"])

    async def _pump(self) -> None:
        """Start queued jobs while there is a free slot; tell everyone whose queue position changed."""
        while self.queue and len(self.running) < self.max_running:
            job_id = self.queue.popleft()
            live = self.live[job_id]
            job = await asyncio.to_thread(self.storage.get_job, job_id)
            if job is None:
                continue
            live.status = "running"
            self.running.add(job_id)
            await asyncio.to_thread(self.storage.update_job, job_id, status="running", started_at=time.time(),
                                    model_path=self.model_path(job_id))
            commands, live.pending_commands = live.pending_commands, []
            if any(c["cmd"] == "pause" for c in commands) and commands[-1]["cmd"] != "resume":
                live.status = "paused"
                await asyncio.to_thread(self.storage.update_job, job_id, status="paused")
            self.executor.submit(job_id, job["spec"], self.model_path(job_id), commands)
            self._broadcast_status(job_id)
        for job_id in self.queue:
            self._broadcast_status(job_id)

    async def cancel_job(self, job_id: str) -> dict:
        job = await self.get_job(job_id)
        live = self.live.get(job_id)
        if live is None or live.finalized:
            return job  # already final: cancel is idempotent
        live.cancel_requested = True
        if job_id in self.queue:
            self.queue.remove(job_id)
            await self._finish(job_id, "cancelled", None, "cancelled while queued")
            await self._pump()
        else:
            await self.executor.cancel(job_id)
            try:
                await asyncio.wait_for(live.done.wait(), timeout=10)
            except asyncio.TimeoutError:
                log.error("job %s did not finish after cancel", job_id)
        return await self.get_job(job_id)

    async def delete_job(self, job_id: str) -> None:
        job = await self.get_job(job_id)
        if job_id in self.live:
            await self.cancel_job(job_id)
        await asyncio.to_thread(self.storage.delete_job, job_id)
        path = job["model_path"] or self.model_path(job_id)
        for p in (path,):
            try:
                os.remove(p)
            except FileNotFoundError:
                pass
        self.live.pop(job_id, None)

    async def send_command(self, job_id: str, command: object) -> dict:
        command = check_command(command)
        job = await self.get_job(job_id)
        live = self.live.get(job_id)
        if live is None or live.finalized:
            raise JobError(409, f"job {job_id} is {job['status']}; commands only apply to queued, running or "
                                f"paused jobs")
        if command["cmd"] == "cancel":
            return self.public(await self.cancel_job(job_id))
        new_status = {"pause": "paused", "step": "paused", "resume": "running"}.get(command["cmd"])
        if job_id in self.queue:
            live.pending_commands.append(command)
        elif not self.executor.send_command(job_id, command):
            raise JobError(409, f"job {job_id} is finishing; command {command['cmd']!r} was not delivered")
        elif new_status and new_status != live.status:
            live.status = new_status
            await asyncio.to_thread(self.storage.update_job, job_id, status=new_status)
            self._broadcast_status(job_id)
        return self.public(await self.get_job(job_id))

    # -- streaming ----------------------------------------------------------------------------
    def subscribe(self, job_id: str) -> tuple[Subscriber, bool]:
        """Register a client; returns (subscriber, job_is_live). Frames already known are queued first."""
        sub = Subscriber()
        live = self.live.get(job_id)
        if live is None or live.finalized:
            return sub, False
        live.subscribers.add(sub)
        for frame in live.frames.values():
            sub.push(frame)
        return sub, True

    def unsubscribe(self, job_id: str, sub: Subscriber) -> None:
        live = self.live.get(job_id)
        if live is not None:
            live.subscribers.discard(sub)

    def status_message(self, job: dict) -> dict:
        live = self.live.get(job["id"])
        return {"type": "status", "status": live.status if live else job["status"],
                "queue_position": self.queue_position(job["id"]),
                "epoch": live.epoch if live and live.epoch else job["epoch"]}

    def _broadcast(self, job_id: str, message: dict) -> None:
        live = self.live.get(job_id)
        if live is None:
            return
        for sub in list(live.subscribers):
            sub.push(message)

    def _broadcast_status(self, job_id: str) -> None:
        live = self.live.get(job_id)
        if live is not None:
            self._broadcast(job_id, {"type": "status", "status": live.status,
                                     "queue_position": self.queue_position(job_id), "epoch": live.epoch})

    # -- the single writer ----------------------------------------------------------------------
    async def _consume(self) -> None:
        async for batch in self.executor.events():
            try:
                await self._handle_batch(batch)
            except Exception:  # noqa: BLE001  one bad batch must not stop every job's stream
                log.exception("failed to handle a batch of job events")

    async def _handle_batch(self, batch: list[tuple[str, str, dict]]) -> None:
        epochs: list[tuple[str, dict]] = []
        updates: dict[str, dict] = {}
        for job_id, kind, payload in batch:
            live = self.live.get(job_id)
            if live is None or kind != "event" or payload.get("type") != "epoch":
                continue
            record = {k: v for k, v in payload.items() if k != "type"}
            epochs.append((job_id, record))
            live.epoch = int(record["epoch"])
            fields = updates.setdefault(job_id, {})
            fields.update(epoch=live.epoch, latest=record)
            if self._is_better(live, record):
                live.best = record
                fields["best"] = record
        if epochs or updates:
            await asyncio.to_thread(self.storage.write_batch, epochs, list(updates.items()))
        for job_id, kind, payload in batch:
            await self._dispatch(job_id, kind, payload)

    @staticmethod
    def _is_better(live: LiveJob, record: dict) -> bool:
        metric, sign = live.best_key
        if metric not in record:
            metric, sign = ("val_loss", 1) if "val_loss" in record else ("train_loss", 1)
        value = record.get(metric)
        if not isinstance(value, (int, float)) or value != value:
            return False
        best = live.best.get(metric) if live.best else None
        return best is None or sign * value < sign * best

    async def _dispatch(self, job_id: str, kind: str, payload: dict) -> None:
        live = self.live.get(job_id)
        if kind == "event":
            if live is not None and payload.get("type") != "epoch":
                live.frames[payload.get("type", "frame")] = payload
            self._broadcast(job_id, payload)
        elif kind == "result":
            status = OUTCOME_STATUS.get(payload.get("outcome"), "completed")
            if live is not None and live.cancel_requested and status == "completed":
                status = "cancelled"
            await self._finish(job_id, status, payload.get("outcome"), payload.get("message"),
                               best_epoch=payload.get("best_epoch"), model_path=payload.get("model_path"))
        elif kind == "error":
            await self._finish(job_id, "failed", "failed", payload.get("message") or "training failed")
        elif kind == "exited":
            if not payload.get("finished"):
                if payload.get("cancelled"):
                    await self._finish(job_id, "cancelled", "stopped",
                                       f"cancelled; the worker was stopped ({payload['reason']})")
                else:
                    await self._finish(job_id, "failed", "failed",
                                       f"the worker process died unexpectedly ({payload['reason']}); "
                                       "the server is fine, the job is lost")
            self.running.discard(job_id)
            if hasattr(self.executor, "forget"):
                self.executor.forget(job_id)
            await self._pump()

    async def _finish(self, job_id: str, status: str, outcome: str | None, message: str | None,
                      best_epoch: int | None = None, model_path: str | None = None) -> None:
        live = self.live.get(job_id)
        if live is None or live.finalized:
            return
        live.finalized = True
        live.status = status
        fields = {"status": status, "outcome": outcome or status, "message": message, "finished_at": time.time()}
        if model_path:
            fields["model_path"] = model_path
        if best_epoch:
            records = await asyncio.to_thread(self.storage.get_epochs, job_id, int(best_epoch) - 1)
            if records and records[0]["epoch"] == best_epoch:
                fields["best"] = records[0]
        await asyncio.to_thread(self.storage.update_job, job_id, **fields)
        done = {"type": "done", "status": status, "outcome": outcome or status, "message": message}
        self._broadcast(job_id, done)
        live.done.set()
        self.live.pop(job_id, None)
