"""SweepRunner: runs a sweep's trials through the JobManager, at most `max_parallel` at a time.

A sweep's trials are checked by engine.sweeps.plan_sweep before anything is stored. Waiting trials stay in
the sweep (the sweep_trials table), not in the server's queue, so a class's sweep of 100 trials holds at
most max_parallel places there; each trial becomes a job through `JobManager.create_job`, the same path
(admission, 429, 507) as POST /api/jobs. A watcher per started trial follows its epochs (a fan-out
subscriber, like a WebSocket viewer) for the trial's best metric and early termination, and ends when the
job does. Sweeps survive a restart: a sweep still `running` is resumed (its started trials' jobs were
marked interrupted by the manager; its waiting trials start).
"""
from __future__ import annotations

import asyncio
import logging
import time

import engine
from engine.errors import SpecError
from engine.halving import EARLY_TERMINATION, best_so_far, better
from engine.sweeps import apply_parameter

from .errors import JobError
from .fanout import SlowClientError
from .manager import JobManager

log = logging.getLogger("nnplay.sweeps")
ACTIVE_JOB = ("queued", "running", "paused")
FULL_QUEUE_WAIT = 5.0   # the server queue is full of other jobs: try again when one ends, at most this late
FULL_QUEUE_RETRY = 0.2  # ... or this soon when no job is left to wait for (a worker is still exiting)


class SweepRunner:
    def __init__(self, manager: JobManager):
        self.manager = manager
        self.storage = manager.storage
        self.tasks: dict[str, asyncio.Task] = {}
        self.best: dict[tuple[str, int], dict] = {}  # (sweep, trial) -> best so far, while the trial runs

    # -- life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Resume every sweep left running (call after the manager has started)."""
        rows, _ = await asyncio.to_thread(self.storage.list_sweeps, 10_000, 0, "running")
        for row in rows:
            self._launch(row["id"])

    async def shutdown(self) -> None:
        """Stop starting trials (before the manager interrupts the jobs); a restart resumes the sweeps."""
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _launch(self, sweep_id: str) -> None:
        task = asyncio.create_task(self._run(sweep_id), name=f"nnplay-sweep-{sweep_id}")
        self.tasks[sweep_id] = task
        task.add_done_callback(lambda _t: self.tasks.pop(sweep_id, None))

    # -- requests -----------------------------------------------------------------------------
    async def create_sweep(self, sweep: dict, trials: list) -> dict:
        """Store a planned sweep (engine.sweeps.plan_sweep's output) and start its first trials."""
        pairs = [(self.storage.new_id(), t.params) for t in trials]
        sweep_id = await asyncio.to_thread(self.storage.create_sweep, sweep, pairs)
        self._launch(sweep_id)
        return await self.read_sweep(sweep_id)

    async def read_sweep(self, sweep_id: str) -> dict:
        row = await asyncio.to_thread(self.storage.get_sweep, sweep_id)
        if row is None:
            raise JobError(404, f"sweep {sweep_id!r} not found")
        jobs = await asyncio.to_thread(self.storage.get_jobs, [t["job_id"] for t in row["trials"]])
        return self.public(row, jobs)

    async def list_sweeps(self, limit: int, offset: int) -> tuple[list[dict], int]:
        rows, total = await asyncio.to_thread(self.storage.list_sweeps, limit, offset)
        return [{k: r[k] for k in ("id", "status", "created_at", "finished_at", "message")}
                | _options(r["spec"]) for r in rows], total

    async def cancel_sweep(self, sweep_id: str) -> dict:
        """Waiting trials are cancelled where they wait, started ones through the manager; idempotent."""
        row = await asyncio.to_thread(self.storage.get_sweep, sweep_id)
        if row is None:
            raise JobError(404, f"sweep {sweep_id!r} not found")
        task = self.tasks.get(sweep_id)
        if task is not None:  # no trial starts once the cancel has begun
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        trials = await self._started_or_waiting(sweep_id, row["trials"])
        for t in trials:
            if t["state"] == "waiting":
                await asyncio.to_thread(self.storage.update_trial, sweep_id, t["idx"], state="cancelled",
                                        message="cancelled with the sweep before it started")
        started = [t for t in trials if t["state"] == "started"]
        await asyncio.gather(*(self.manager.cancel_job(t["job_id"]) for t in started))
        for t in started:
            if t["best"] is None:  # its watcher was stopped with the sweep: read its best once here
                records = await self.manager.history(t["job_id"])
                await self._store_best(sweep_id, t["idx"], best_so_far(records, row["spec"]["metric"],
                                                                        row["spec"]["goal"]))
        if row["status"] == "running":
            await asyncio.to_thread(self.storage.update_sweep, sweep_id, status="cancelled",
                                    finished_at=time.time(), message="cancelled")
        return await self.read_sweep(sweep_id)

    # -- the public form ----------------------------------------------------------------------
    def public(self, row: dict, jobs: dict[str, dict]) -> dict:
        spec = row["spec"]
        trials = [self._trial_public(row["id"], t, jobs.get(t["job_id"])) for t in row["trials"]]
        ranked = [t for t in trials if t["best"] is not None]
        best = None
        for t in ranked:
            if best is None or better(t["best"]["value"], best["best"]["value"], spec["goal"]):
                best = t
        counts: dict[str, int] = {}
        for t in trials:
            counts[t["status"]] = counts.get(t["status"], 0) + 1
        return {"id": row["id"], "status": row["status"], "created_at": row["created_at"],
                "finished_at": row["finished_at"], "message": row["message"], **_options(spec),
                "parameters": spec["parameters"], "early_termination": spec["early_termination"],
                "base": spec["base"], "trials": trials, "counts": counts,
                "best": None if best is None else {k: best[k] for k in ("index", "job_id", "params", "best")}}

    def _trial_public(self, sweep_id: str, t: dict, job: dict | None) -> dict:
        if job is None:   # not started yet, never started (cancelled / failed), or its job was deleted
            status = "deleted" if t["state"] == "started" else t["state"]
        else:
            live = self.manager.live.get(job["id"])
            status = live.status if live is not None else job["status"]
        best = t["best"] if t["best"] is not None else self.best.get((sweep_id, t["idx"]))
        return {"index": t["idx"], "job_id": t["job_id"], "params": t["params"], "status": status,
                "epoch": job["epoch"] if job else 0, "epochs": job["epochs"] if job else None, "best": best,
                "message": t["message"] or (job or {}).get("message"),
                "stopped_early": bool(t["message"] and t["message"].startswith("stopped by successive halving"))}

    # -- running a sweep ----------------------------------------------------------------------
    async def _run(self, sweep_id: str) -> None:
        row = await asyncio.to_thread(self.storage.get_sweep, sweep_id)
        spec = row["spec"]
        rule = EARLY_TERMINATION.build(spec["early_termination"], "early_termination") \
            if spec["early_termination"] else None
        await self._settle_started(sweep_id, spec, await self._started_or_waiting(sweep_id, row["trials"]), rule)
        waiting = [t for t in row["trials"] if t["state"] == "waiting"]
        active: set[asyncio.Task] = set()
        try:
            while waiting or active:
                while waiting and len(active) < spec["max_parallel"]:
                    started = await self._start_trial(sweep_id, spec, waiting[0], wait_if_full=not active)
                    if started is None:   # the server queue is full: wait for one of ours to end
                        break
                    trial = waiting.pop(0)
                    if started:
                        active.add(asyncio.create_task(self._watch(sweep_id, spec, trial, rule)))
                if active:
                    _, active = await asyncio.wait(active, return_when=asyncio.FIRST_COMPLETED)
            await asyncio.to_thread(self.storage.update_sweep, sweep_id, status="completed", finished_at=time.time(),
                                    message=f"{len(row['trials'])} trials finished")
        finally:
            for task in active:
                task.cancel()
            await asyncio.gather(*active, return_exceptions=True)

    async def _settle_started(self, sweep_id: str, spec: dict, trials: list, rule) -> None:
        """After a restart: trials started before it have ended (interrupted or finished); record their best
        metric and their values at each rung, so early termination judges the rest against them."""
        for t in trials:
            if t["state"] != "started":
                continue
            records = await self.manager.history(t["job_id"]) if await self._job_exists(t["job_id"]) else []
            if t["best"] is None:
                await self._store_best(sweep_id, t["idx"], best_so_far(records, spec["metric"], spec["goal"]))
            if rule is not None:
                for rung in rule.rungs(spec["base"]["training"]["epochs"]):
                    value = best_so_far(records, spec["metric"], spec["goal"], through=rung)
                    if records and records[-1]["epoch"] >= rung and value is not None:
                        rule.judge(rung, value[0], spec["goal"])

    async def _started_or_waiting(self, sweep_id: str, trials: list[dict]) -> list[dict]:
        """Trials whose job exists are started, whatever the row says (a sweep stopped between creating a
        trial's job and recording it)."""
        jobs = await asyncio.to_thread(self.storage.get_jobs, [t["job_id"] for t in trials])
        for t in trials:
            if t["state"] == "waiting" and t["job_id"] in jobs:
                t["state"] = "started"
                await asyncio.to_thread(self.storage.update_trial, sweep_id, t["idx"], state="started")
        return trials

    async def _job_exists(self, job_id: str) -> bool:
        return await asyncio.to_thread(self.storage.get_job, job_id) is not None

    async def _store_best(self, sweep_id: str, index: int, best) -> None:
        value = None if best is None else {"value": best[0], "epoch": best[1]}
        await asyncio.to_thread(self.storage.update_trial, sweep_id, index, best=value)
        self.best.pop((sweep_id, index), None)

    async def _start_trial(self, sweep_id: str, spec: dict, trial: dict, wait_if_full: bool) -> bool | None:
        """Create the trial's job; True when it runs, False when it could not start (marked failed), None
        when the server's queue is full (after waiting, if nothing of ours will free a place)."""
        try:
            if "prepared" not in trial:   # normalized once, however often a full queue sends it back
                trial["prepared"] = await asyncio.to_thread(self._trial_spec, spec, trial["params"])
            job_spec, summary, n_params = trial["prepared"]
            await self.manager.create_job(job_spec, summary, n_params, job_id=trial["job_id"])
        except JobError as e:
            if e.status != 429:
                return await self._fail_trial(sweep_id, trial, e.message)
            if wait_if_full:
                await self._wait_for_room()
            return None
        except SpecError as e:  # the server's limits changed since the sweep was checked (a restart)
            return await self._fail_trial(sweep_id, trial, f"could not start: {e}")
        await asyncio.to_thread(self.storage.update_trial, sweep_id, trial["idx"], state="started")
        return True

    async def _fail_trial(self, sweep_id: str, trial: dict, message: str) -> bool:
        await asyncio.to_thread(self.storage.update_trial, sweep_id, trial["idx"], state="failed", message=message)
        return False

    def _trial_spec(self, spec: dict, params: dict) -> tuple[dict, list, int]:
        """The trial's job spec, normalized again under the server's limits (as POST /api/jobs does)."""
        job_spec = spec["base"]
        for path, value in params.items():
            job_spec = apply_parameter(job_spec, path, value)
        job_spec = engine.normalize(job_spec, self.manager.limits)
        model = engine.build_model(job_spec["model"])
        return job_spec, model.summary(), model.n_params()

    async def _wait_for_room(self) -> None:
        """Until some job ends (a place in the server's queue frees up), at most FULL_QUEUE_WAIT seconds."""
        waits = [asyncio.create_task(live.done.wait()) for live in list(self.manager.live.values())]
        if not waits:   # the last job has ended but its worker still holds the slot until it exits
            await asyncio.sleep(FULL_QUEUE_RETRY)
            return
        try:
            await asyncio.wait(waits, timeout=FULL_QUEUE_WAIT, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    async def _watch(self, sweep_id: str, spec: dict, trial: dict, rule) -> None:
        """Follow one trial's job to its end: its best metric so far, and a rung check after each epoch that
        passes one (the trial is cancelled when early termination says so)."""
        job_id, index = trial["job_id"], trial["idx"]
        rungs = rule.rungs(spec["base"]["training"]["epochs"]) if rule is not None else []
        while True:
            sub, live = self.manager.subscribe(job_id)
            try:
                while live:
                    for msg in await sub.next_batch():
                        if msg.get("type") == "done":
                            live = False
                        elif msg.get("type") == "epoch":
                            self._note_epoch(sweep_id, index, spec, msg)
                            if rungs and msg["epoch"] >= rungs[0] and await self._halve(
                                    sweep_id, spec, trial, rule, rungs.pop(0)):
                                rungs = []
                break
            except SlowClientError:
                continue   # resubscribe: the rung check reads the history, nothing is lost
            finally:
                self.manager.unsubscribe(job_id, sub)
        records = await self.manager.history(job_id)
        await self._store_best(sweep_id, index, best_so_far(records, spec["metric"], spec["goal"]))

    def _note_epoch(self, sweep_id: str, index: int, spec: dict, record: dict) -> None:
        value = record.get(spec["metric"])
        if not isinstance(value, (int, float)) or value != value:
            return
        key = (sweep_id, index)
        known = self.best.get(key)
        if known is None or better(value, known["value"], spec["goal"]):
            self.best[key] = {"value": float(value), "epoch": int(record["epoch"])}

    async def _halve(self, sweep_id: str, spec: dict, trial: dict, rule, rung: int) -> bool:
        """Judge the trial at `rung` on its best metric through that epoch; True when it was stopped."""
        records = await self.manager.history(trial["job_id"], 0, rung)
        best = best_so_far(records, spec["metric"], spec["goal"])
        value = float("nan") if best is None else best[0]
        goes_on, cutoff = rule.judge(rung, value, spec["goal"])
        if goes_on:
            return False
        n = len(rule.recorded[rung])
        message = (f"stopped by successive halving at epoch {rung}: {spec['metric']} {value:.4g} so far, "
                   f"{'below' if spec['goal'] == 'maximize' else 'above'} the rung's cutoff {cutoff:.4g} (the best "
                   f"1/{rule.reduction_factor} of the {n} trials that reached epoch {rung} go on)")
        await asyncio.to_thread(self.storage.update_trial, sweep_id, trial["idx"], message=message)
        log.info("sweep %s trial %d: %s", sweep_id, trial["idx"], message)
        await self.manager.cancel_job(trial["job_id"])
        return True


def _options(spec: dict) -> dict:
    return {k: spec[k] for k in ("method", "n_trials", "metric", "goal", "seed", "max_parallel")}
