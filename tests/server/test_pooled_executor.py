"""PooledExecutor beyond the contract suite: light jobs share a warm process (started before any job), heavy
jobs get a process each, a dying pool process fails only its light jobs, and admission by lane lets a light
job start while every heavy slot and the heavy queue are taken."""
from __future__ import annotations

import dataclasses
import os

import engine
from server.jobs.artifacts import LocalArtifactStore
from server.jobs.executor import LocalProcessExecutor
from server.jobs.manager import JobManager
from server.jobs.messages import Event, Failed, Finished
from server.jobs.pool import LIGHT_NICENESS
from server.jobs.pooled_executor import HEAVY_NICENESS, PooledExecutor
from server.jobs.storage import Storage
from server_support import tiny_spec
from test_executor_contract import run, until_terminal, wait_done

COMMON = {"train_path": "fake_train:train", "checkpoint_seconds": 0.0, "cancel_grace": 2.0}
LONG = {"epochs": 100_000, "seconds": 0.02}


def pooled(processes: int = 1) -> PooledExecutor:
    return PooledExecutor(LocalProcessExecutor(**COMMON), processes=processes, **COMMON)


async def first_event(messages, job_id: str, kind: str) -> Event:
    while True:
        for m in await anext(messages):
            if isinstance(m, Event) and m.job_id == job_id and m.event["type"] == kind:
                return m


def test_light_jobs_share_the_warm_process_and_a_heavy_job_gets_its_own(tmp_path):
    async def body():
        executor = pooled()
        executor.start(LocalArtifactStore(tmp_path / "models"))
        warm_pid = executor.pool[0].process.pid            # started with the executor, before any job
        messages = aiter(executor.messages())
        jobs = (("light1", "light"), ("light2", "light"), ("heavy", "heavy"))
        for job_id, lane in jobs:
            executor.submit(job_id, {"mode": "where"}, lane=lane)
        seen, ended = [], set()
        while len(ended) < len(jobs):
            for m in await anext(messages):
                seen.append(m)
                if isinstance(m, (Finished, Failed)):
                    ended.add(m.job_id)
        await executor.shutdown()
        where = {m.job_id: m.event for m in seen if isinstance(m, Event) and m.event["type"] == "where"}
        return warm_pid, where, [m for m in seen if isinstance(m, (Finished, Failed))]

    warm_pid, where, seen_ends = run(body())
    assert "light1" in where and "light2" in where, seen_ends
    assert where["light1"]["pid"] == where["light2"]["pid"] == warm_pid
    assert where["heavy"]["pid"] != warm_pid
    # the CPU shares: light jobs' pool at 5, a heavy job at 15 (its worker's own +10 once made that 19)
    base = os.getpriority(os.PRIO_PROCESS, 0)
    assert where["light1"]["nice"] == min(19, base + LIGHT_NICENESS)
    assert where["heavy"]["nice"] == max(base, HEAVY_NICENESS)


def test_a_dying_pool_process_fails_its_light_jobs_only_and_is_replaced(tmp_path):
    async def body():
        executor = pooled()
        executor.start(LocalArtifactStore(tmp_path / "models"))
        messages = aiter(executor.messages())
        executor.submit("heavy", LONG, lane="heavy")
        executor.submit("light", LONG, lane="light")
        await first_event(messages, "heavy", "epoch")
        await first_event(messages, "light", "epoch")
        executor.submit("crash", {"mode": "crash"}, lane="light")   # os._exit in a thread: the process dies
        seen, ended = [], set()
        while not {"crash", "light"} <= ended:   # both end when their process dies, in either order
            for m in await anext(messages):
                seen.append(m)
                if isinstance(m, (Finished, Failed)):
                    ended.add(m.job_id)
        heavy_alive = executor.send_command("heavy", {"cmd": "cancel"})
        seen += await until_terminal(messages, "heavy")
        executor.submit("after", {"epochs": 1}, lane="light")        # the replacement process takes it
        seen += await until_terminal(messages, "after")
        await executor.shutdown()
        return seen, heavy_alive

    seen, heavy_alive = run(body())
    ends = {m.job_id: m for m in seen if isinstance(m, (Finished, Failed))}
    assert isinstance(ends["crash"], Failed) and "died unexpectedly" in ends["crash"].message
    assert isinstance(ends["light"], Failed)                          # it shared the dead process
    assert heavy_alive and isinstance(ends["heavy"], Finished) and ends["heavy"].outcome == "stopped"
    assert isinstance(ends["after"], Finished) and ends["after"].outcome == "completed"


def test_a_light_job_starts_while_heavy_jobs_hold_every_slot_and_the_queue(tmp_path):
    light_spec = engine.normalize(tiny_spec())
    heavy_spec = engine.normalize(tiny_spec() | {"dataset": {"name": "xor", "n_samples": 5000}})
    cost = engine.job_cost(light_spec)
    limits = dataclasses.replace(engine.DEFAULT_LIMITS, light_job_flops=max(cost.epoch_flops, cost.frame_flops))
    assert engine.job_cost(heavy_spec, limits).lane == "heavy" and engine.job_cost(light_spec, limits).lane == "light"

    async def body():
        m = JobManager(Storage(tmp_path / "db.sqlite3"), pooled(), tmp_path / "models", max_running=1,
                       max_queued=1, limits=limits, max_light=4)
        await m.start()
        running = await m.create_job({**heavy_spec, **LONG})
        waiting = await m.create_job({**heavy_spec, **LONG})
        light = await m.create_job({**light_spec, "epochs": 2})
        light_done = await wait_done(m, light["id"])
        states = [(await m.get_job(j["id"]))["status"] for j in (running, waiting)]
        positions = [m.queue_position(j["id"]) for j in (running, waiting, light)]
        await m.shutdown()
        return light, light_done, states, positions

    light, light_done, states, positions = run(body())
    assert light["status"] == "running"                                          # started at once
    assert light_done["status"] == "completed"
    assert states == ["running", "queued"] and positions == [None, 1, None]
