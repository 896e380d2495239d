"""JobManager: ties admission (queue), the status machine, recording and fan-out to an executor.

Single writer: one task consumes the executor's message batches; the Recorder commits them to SQLite
(in a thread) and only then are they broadcast, so a record a client has seen is always on disk.
Routes ask the manager for jobs, histories and model files; they never touch storage or the disk.
"""
from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from engine import DEFAULT_LIMITS, Limits
from engine.control import check_command
from engine.cost import job_cost
from engine.naming import run_name
from engine.errors import Problem, SpecError

from . import status
from .admission import Admission
from .artifacts import ArtifactStore, LocalArtifactStore
from .errors import JobError
from .executor import Executor
from .fanout import Subscriber
from .live import LiveJob
from .messages import Event, Failed, Finished, Message
from .recorder import Recorder, best_key_for
from .storage import Storage, StorageUnavailable
from ..home import NoRoom, check_room

__all__ = ["JobError", "JobManager"]

log = logging.getLogger("nnplay.jobs")
FINISH_RETRY_SECONDS = 1.0   # a job's end the database refused (disk full) is written again this often
MODEL_FILE_FACTOR = 4        # a model file holds weights + up to 2 optimizer slots + state, per parameter
MODEL_FILE_EXTRA = 1 << 20


class JobManager:
    def __init__(self, storage: Storage, executor: Executor, artifacts: ArtifactStore | Path | str,
                 max_running: int = 1, max_queued: int = 32, limits: Limits = DEFAULT_LIMITS, max_light: int = 0,
                 unwatched_seconds: float = 0.0):
        """`artifacts`: where model files live (a folder: a LocalArtifactStore on it); `max_light`: light jobs
        that may run beside the `max_running` heavy ones (admission.py's lanes; 0: one queue for all)."""
        self.storage = storage
        self.limits = limits  # the engine limits specs were validated under; workers train with the same
        self.executor = executor
        if isinstance(artifacts, (str, Path)):
            artifacts = LocalArtifactStore(artifacts)
        self.artifacts = artifacts
        self.models_dir = getattr(artifacts, "folder", None)  # a local store's folder: the free-space check
        self.admission = Admission(max_running, max_queued, max_light)
        # an open-ended run (training.epochs null: the playground's Play) whose last viewer left this many
        # seconds ago is stopped, so closed tabs never hold a class's training slots (0: never)
        self.unwatched_seconds = unwatched_seconds
        self.recorder = Recorder(storage)
        self.live: dict[str, LiveJob] = {}
        self._task: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()  # background cancels and finish retries (disk full)
        self._pump_retry_pending = False         # a start the database refused is tried again (one timer)

    # -- life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        ids = await asyncio.to_thread(
            self.storage.mark_interrupted, "the server stopped while this job was queued or running")
        if ids:
            log.warning("marked %d unfinished job(s) interrupted", len(ids))
        self.executor.start(self.artifacts)
        self._task = asyncio.create_task(self._consume(), name="nnplay-job-events")

    async def shutdown(self) -> None:
        for job_id in list(self.live):
            await self._finish(job_id, "interrupted", None, "the server shut down while this job was active")
        if self._task:
            self._task.cancel()
        for task in list(self._tasks):  # finish retries: the next start marks those jobs interrupted
            task.cancel()
        await self.executor.shutdown()

    # -- queries ------------------------------------------------------------------------------
    def model_path(self, job_id: str) -> str:
        """The artifact store's file for the job's model (the server's disk, never a worker's)."""
        return self.artifacts.path(job_id)

    def queue_position(self, job_id: str) -> int | None:
        return self.admission.position(job_id)

    def public(self, job: dict) -> dict:
        """A stored job as JobPublic: live status, progress, queue position, whether a model file exists."""
        live = self.live.get(job["id"])
        out = {key: job[key] for key in ("id", "status", "spec", "created_at", "started_at", "finished_at",
                                         "epoch", "latest", "best", "outcome", "message", "summary")}
        if live is not None:
            out["status"] = live.status
        epochs = job["epochs"] or None  # 0 stored = no fixed count (training.epochs null)
        out["epochs"] = epochs
        out["progress"] = round(min(1.0, job["epoch"] / epochs), 4) if epochs else None
        out["queue_position"] = self.queue_position(job["id"])
        out["n_params"] = job["n_params"]
        out["has_model"] = self.artifacts.exists(job["id"])
        out["init_from"] = ({"job_id": job["init_from"], **({"layers": job["init_layers"]} if job.get("init_layers")
                                                            is not None else {})} if job["init_from"] else None)
        out["name"] = job.get("name") or run_name(job["spec"])   # a rename, else the spec's readable name
        out["renamed"] = bool(job.get("name"))
        return out

    async def get_job(self, job_id: str) -> dict:
        job = await asyncio.to_thread(self.storage.get_job, job_id)
        if job is None:
            raise JobError(404, f"job {job_id!r} not found")
        return job

    async def list_jobs(self, status: str | None, limit: int, offset: int) -> tuple[list[dict], int]:
        return await asyncio.to_thread(self.storage.list_jobs, status, limit, offset)

    async def history(self, job_id: str, since: int = 0, limit: int | None = None) -> list[dict]:
        """The job's epoch records with epoch > since, at most `limit` (404 if there is no such job)."""
        await self.get_job(job_id)
        return await self.recorder.history(job_id, since, limit)

    async def model_file(self, job_id: str) -> str:
        """Path of the job's saved model in the artifact store; 404 when the job has none (yet)."""
        job = await self.get_job(job_id)
        path = self.artifacts.path(job_id)
        if not self.artifacts.exists(job_id):
            raise JobError(404, f"job {job_id} has no saved model yet (status {job['status']}); "
                                "a running job saves one every few seconds")
        return path

    async def check_init_from(self, job_id: str, model_spec: dict, layers: list[int] | None = None) -> None:
        """A job can continue `job_id` when that job exists, has a model file and the same network.

        Raises SpecError naming `init_from.job_id` (or the model field that differs), so it is a 422
        at POST /api/jobs, before anything is queued.
        """
        from engine.resume import architecture_problems, layer_problems, saved_model

        field = "init_from.job_id"
        job = await asyncio.to_thread(self.storage.get_job, job_id)
        if job is None:
            raise SpecError(f"no job {job_id!r} to continue from", field)
        path = self.artifacts.path(job_id)
        if not self.artifacts.exists(job_id):
            raise SpecError(f"job {job_id} has no saved model to continue from (status {job['status']})", field)
        saved = await asyncio.to_thread(saved_model, path)
        if model_spec.get("type") == "knn" or saved.spec.get("type") == "knn":
            raise SpecError("a knn model has no weights to start from or to give", field)
        problems = (architecture_problems(model_spec, saved) if layers is None
                    else layer_problems(model_spec, saved, layers))
        if problems:  # the engine names `init_from` for the whole file: over the API that is the job id
            raise SpecError([Problem(field if p.path == "init_from" else p.path, p.message) for p in problems])

    # -- mutations ----------------------------------------------------------------------------
    async def create_job(self, spec: dict, summary: list | None = None, n_params: int | None = None,
                         init_from: str | None = None, job_id: str | None = None,
                         init_layers: list[int] | None = None, paused: bool = False) -> dict:
        """Queue a normalized spec (validated by the caller, trained as is); `init_from`: a job id that
        `check_init_from` accepted, whose model file the worker starts from; `job_id`: an id given out
        beforehand (a sweep's trial), else a new one; `paused`: the worker gets a pause before its first batch."""
        # the 429 comes before anything is stored; the place is held across the awaits below, so
        # simultaneous creates cannot all pass the check and then all queue
        cost_lane = await self._lane(spec)       # light or heavy (the engine's estimate); None: lanes are off
        lane = self.admission.reserve(cost_lane)
        try:
            await asyncio.to_thread(self._check_room, spec, n_params)  # 507 before anything is stored
            epochs = (spec.get("training") or {}).get("epochs")
            job = await asyncio.to_thread(self.storage.create_job, spec, int(epochs or 0), init_from, job_id,
                                          init_layers)
            await asyncio.to_thread(self.storage.update_job, job["id"], summary=summary, n_params=n_params)
        except BaseException:
            self.admission.unreserve(lane)
            raise
        self.live[job["id"]] = LiveJob(job["id"], spec=spec, init_from=init_from, init_layers=init_layers,
                                       best_key=best_key_for(spec), lane=cost_lane,
                                       pending_commands=[{"cmd": "pause"}] if paused else [])
        self.admission.admit(job["id"], lane)
        await self._pump()
        return await self.get_job(job["id"])

    async def _lane(self, spec: dict) -> str | None:
        """"light" when the engine says the job is cheap (engine/cost.py, limits.light_job_flops), else "heavy";
        None while the light lane is closed (max_light_jobs 0: no estimate, the executor places the job)."""
        if not self.admission.lanes["light"].capacity:
            return None
        try:
            return (await asyncio.to_thread(job_cost, spec, self.limits)).lane
        except Exception:  # noqa: BLE001  a spec the engine accepted but cannot cost: treat it as heavy
            log.exception("could not estimate the cost of a job; it runs in the heavy lane")
            return "heavy"

    def _check_room(self, spec: dict, n_params: int | None) -> None:
        """JobError 507 when the models folder cannot take this job's model file (weights, optimizer slots)."""
        if self.models_dir is None:
            return
        item = 8 if (spec.get("model") or {}).get("dtype") == "float64" else 4
        try:
            check_room(self.models_dir, MODEL_FILE_FACTOR * item * (n_params or 0) + MODEL_FILE_EXTRA)
        except NoRoom as e:
            raise JobError(507, str(e)) from None

    async def _pump(self) -> None:
        """_start_queued in a task of its own: a caller cancelled while a start is under way (a sweep's runner,
        cancelled with its sweep while it creates a trial) must not stop that start half-way, with
        `live.starting` left set and the job's cancel never sent (the sweep's cancel then waited its 10 s)."""
        await asyncio.shield(self._start_queued())

    async def _start_queued(self) -> None:
        """Start queued jobs while there is a free slot; tell everyone whose queue position changed.

        The row says `running` before a worker starts. A start the database refuses (disk full) is undone:
        the job goes back to the head of the queue (row and API both say `queued`), its viewers are told
        why once, and the start is tried again every FINISH_RETRY_SECONDS until the write lands."""
        while (job_id := self.admission.next_to_start()) is not None:
            live = self.live[job_id]
            # the slot and the status change in one step: a job is never seen queued while it holds a slot;
            # a command sent while its start is written waits in pending_commands (live.starting)
            status.move(live, "running")
            live.starting = True
            try:
                await asyncio.to_thread(self.storage.update_job, job_id, status="running",
                                        started_at=time.time(), model_path=self.model_path(job_id))
            except StorageUnavailable as e:
                live.starting = False
                await self._start_refused(job_id, live, e.message)
                break  # the head of the queue cannot start: nor can the others behind it
            if live.finalized or live.cancel_requested:  # cancelled (or shut down) while its start was written
                live.starting = False
                self.admission.release(job_id)
                await self._finish(job_id, "cancelled", None, "cancelled before it started")
                continue
            commands, live.pending_commands = live.pending_commands, []
            # spawning writes the spec down a pipe that the new process reads once its interpreter is up:
            # for a spec with inline rows that is seconds on a busy machine, so it happens off the event loop
            await asyncio.to_thread(self.executor.submit, job_id, live.spec, commands, init_from=live.init_from,
                                    limits=self.limits, init_layers=live.init_layers,
                                    lane=live.lane)
            live.starting = False
            for command in live.pending_commands:  # sent while the worker was being spawned
                self.executor.send_command(job_id, command)
            live.pending_commands = []
            if live.cancel_requested:  # cancel_job waits for the worker's end
                self._background(self.executor.cancel(job_id))
            self._broadcast_status(job_id)
        for job_id in self.admission.queue:
            self._broadcast_status(job_id)

    async def _start_refused(self, job_id: str, live: LiveJob, reason: str) -> None:
        """Undo a start the database did not record: the row still says queued, so the API does too."""
        live.status = "queued"  # the one step back the status machine does not list: the start never happened
        if live.cancel_requested or live.finalized:
            self.admission.release(job_id)
            await self._finish(job_id, "cancelled", None, "cancelled before it started")
            return
        self.admission.requeue(job_id)
        log.error("job %s: could not record its start (%s); retrying every %g s", job_id, reason,
                  FINISH_RETRY_SECONDS)
        if not live.start_refused:
            live.start_refused = True
            live.broadcast({"type": "error", "recoverable": True,
                            "message": f"waiting to start: the server cannot record it ({reason})"})
        if not self._pump_retry_pending:
            self._pump_retry_pending = True
            self._background(self._pump_later())

    async def _pump_later(self) -> None:
        await asyncio.sleep(FINISH_RETRY_SECONDS)
        self._pump_retry_pending = False
        await self._pump()

    async def cancel_job(self, job_id: str) -> dict:
        job = await self.get_job(job_id)
        live = self.live.get(job_id)
        if live is None or live.finalized:
            return job  # already final: cancel is idempotent
        live.cancel_requested = True
        if self.admission.withdraw(job_id):
            await self._finish(job_id, "cancelled", None, live.stop_reason or "cancelled while queued")
            await self._pump()
        else:
            if not live.starting:  # a job still being started is cancelled by _pump once its worker exists
                await self.executor.cancel(job_id)
            try:
                await asyncio.wait_for(live.done.wait(), timeout=10)
            except asyncio.TimeoutError:
                log.error("job %s did not finish after cancel", job_id)
        return await self.get_job(job_id)

    async def rename_job(self, job_id: str, name: str | None) -> dict:
        """Give the job a name of its own; None or "" goes back to the generated one."""
        await self.get_job(job_id)
        await asyncio.to_thread(self.storage.update_job, job_id, name=(name or "").strip() or None)
        return self.public(await self.get_job(job_id))

    async def delete_job(self, job_id: str) -> None:
        job = await self.get_job(job_id)
        if job_id in self.live:
            await self.cancel_job(job_id)
        await asyncio.to_thread(self.storage.delete_job, job_id)
        await asyncio.to_thread(self.artifacts.delete, job_id)
        self.live.pop(job_id, None)

    async def send_command(self, job_id: str, command: object) -> dict:
        """Check the command (engine.control.check_command: SpecError naming the field) and deliver it.

        The job's status changes when the trainer reports it (a {"type": "status"} event), not here.
        """
        command = check_command(command)
        job = await self.get_job(job_id)
        live = self.live.get(job_id)
        if live is None or live.finalized:
            raise JobError(409, f"job {job_id} is {job['status']}; commands only apply to queued, running or "
                                f"paused jobs")
        if command["cmd"] == "cancel":
            return self.public(await self.cancel_job(job_id))
        if live.status == "queued" or live.starting:
            live.pending_commands.append(command)
        elif not self.executor.send_command(job_id, command):
            raise JobError(409, f"job {job_id} is finishing; command {command['cmd']!r} was not delivered")
        return self.public(job)

    # -- streaming ----------------------------------------------------------------------------
    def subscribe(self, job_id: str, max_pending: int = 5000) -> tuple[Subscriber, bool]:
        """Register a client that may fall `max_pending` messages behind; returns (subscriber, job_is_live).
        Frames already known are queued first."""
        sub = Subscriber(max_pending)
        live = self.live.get(job_id)
        if live is None or live.finalized:
            return sub, False
        live.subscribers.add(sub)
        live.unwatched_since = None
        for frame in live.frames.values():
            sub.push(frame)
        return sub, True

    def unsubscribe(self, job_id: str, sub: Subscriber) -> None:
        live = self.live.get(job_id)
        if live is None:
            return
        live.subscribers.discard(sub)
        if not live.subscribers and self.unwatched_seconds > 0 and live.spec["training"].get("epochs") is None:
            live.unwatched_since = since = time.monotonic()
            self._background(self._stop_if_unwatched(job_id, since))

    async def _stop_if_unwatched(self, job_id: str, since: float) -> None:
        """Stop an open-ended run nobody came back to (a page that reconnects within the grace keeps it)."""
        await asyncio.sleep(self.unwatched_seconds)
        live = self.live.get(job_id)
        if live is None or live.finalized or live.unwatched_since != since:
            return
        live.stop_reason = (f"stopped after {self.unwatched_seconds:g} s with no one watching: an open-ended "
                            f"run ends when its last page closes (its model is kept; Play continues from it)")
        log.info("job %s: %s", job_id, live.stop_reason)
        await self.cancel_job(job_id)

    def status_message(self, job: dict) -> dict:
        live = self.live.get(job["id"])
        return {"type": "status", "status": live.status if live else job["status"],
                "queue_position": self.queue_position(job["id"]),
                "epoch": live.epoch if live and live.epoch else job["epoch"]}

    def _broadcast_status(self, job_id: str) -> None:
        live = self.live.get(job_id)
        if live is not None:
            live.broadcast({"type": "status", "status": live.status,
                            "queue_position": self.queue_position(job_id), "epoch": live.epoch})

    # -- the single writer ----------------------------------------------------------------------
    async def _consume(self) -> None:
        async for batch in self.executor.messages():
            try:
                try:
                    await self.recorder.record(batch, self.live)
                except StorageUnavailable as e:  # nothing of the batch is stored: nobody is told about it
                    batch = self._unrecorded(batch, e.message)
                for message in batch:
                    await self._dispatch(message)
            except Exception:  # noqa: BLE001  one bad batch must not stop every job's stream
                log.exception("failed to handle a batch of job events")

    def _unrecorded(self, batch: list[Message], reason: str) -> list[Message]:
        """A batch the database refused (disk full): its epochs and status changes are dropped (a client
        never sees what is not on disk) and the jobs that reported them are stopped, to fail with `reason`;
        terminal messages still go through."""
        log.error("could not record job events: %s", reason)
        kept = []
        for message in batch:
            if isinstance(message, Event) and message.event.get("type") in ("epoch", "status"):
                live = self.live.get(message.job_id)
                if live is not None and not live.finalized and live.storage_error is None:
                    live.storage_error = f"stopped: its progress could not be recorded ({reason})"
                    self._background(self.executor.cancel(message.job_id))
                continue
            kept.append(message)
        return kept

    def _background(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)  # keep a reference until it is done
        task.add_done_callback(self._tasks.discard)

    async def _dispatch(self, message: Message) -> None:
        job_id = message.job_id
        live = self.live.get(job_id)
        if isinstance(message, Event):
            if live is None:
                return
            payload = message.event
            if payload.get("type") == "status":
                self._broadcast_status(job_id)  # the recorder has moved and stored the status
                return
            if payload.get("type") != "epoch":
                live.frames[payload.get("type", "frame")] = payload
            live.broadcast(payload)
            return
        # the job's one terminal message: its worker is gone
        if live is not None and live.storage_error:
            await self._finish(job_id, "failed", "failed", live.storage_error)
        elif isinstance(message, Finished):
            final = status.result_status(message.outcome, live is not None and live.cancel_requested)
            reason = live.stop_reason if live is not None and live.stop_reason else message.message
            await self._finish(job_id, final, message.outcome, reason, best_epoch=message.best_epoch)
        elif isinstance(message, Failed):
            await self._finish(job_id, "failed", "failed", message.message or "training failed")
        self.admission.release(job_id)  # free its slot and start the next queued job
        await self._pump()

    async def _finish_later(self, *args) -> None:
        await asyncio.sleep(FINISH_RETRY_SECONDS)
        await self._finish(*args)

    async def _finish(self, job_id: str, final: str, outcome: str | None, message: str | None,
                      best_epoch: int | None = None) -> None:
        live = self.live.get(job_id)
        if live is None or live.finalized or final == live.status or not status.can_move(live.status, final):
            return
        live.finalized = True  # no second finish meanwhile; the status itself moves once the row has it
        fields = {"status": final, "outcome": outcome or final, "message": message, "finished_at": time.time()}
        if best_epoch:  # early stopping restored this epoch's weights: it is the best one
            record = await self.recorder.epoch_record(job_id, best_epoch)
            if record is not None:
                fields["best"] = record
        try:
            await asyncio.to_thread(self.storage.update_job, job_id, **fields)
        except StorageUnavailable as e:
            # the row keeps its last status, and so does the API, until the write lands (the disk has room)
            live.finalized = False
            log.error("job %s: could not record its end (%s); retrying every %g s", job_id, e.message,
                      FINISH_RETRY_SECONDS)
            self._background(self._finish_later(job_id, final, outcome, message, best_epoch))
            return
        status.move(live, final)
        live.broadcast({"type": "done", "status": final, "outcome": outcome or final, "message": message})
        live.done.set()
        self.live.pop(job_id, None)
