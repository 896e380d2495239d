"""The executor contract (docs/DESIGN.md, "Executors"): one suite, run against every executor.

Each test is parametrised over EXECUTORS ("local": a process per job, "thread": threads of this process,
"pooled": the warm pool, "ray": tasks on a two-node Ray cluster on 127.0.0.1, every job on the node that is not
this process's, see ray_cluster.py; skipped without Ray); a new executor is added to that list. The train function is tests/server/fake_train.py
(no engine, behaviour chosen by the spec), so the suite tests the executor and the manager, not training.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import time

import pytest

from server.jobs.artifacts import ArtifactMissing, LocalArtifactStore
from server.jobs.manager import JobManager
from server.jobs.messages import Event, Failed, Finished
from server.jobs.storage import Storage

# "pooled": PooledExecutor's warm pool (light jobs as threads of a shared process), every job sent there
EXECUTORS = ["local", "thread", "pooled", "ray"]
CRASH_MODE = {"local": "crash", "thread": "crash_thread", "pooled": "crash", "ray": "crash"}  # a dying worker
LONG = {"epochs": 100_000, "seconds": 0.02}  # runs until cancelled; answers commands every epoch


@pytest.fixture(params=EXECUTORS)
def kind(request):
    if request.param == "ray":
        request.getfixturevalue("ray_cluster")   # started once per session; skips when Ray is not installed
    return request.param


def make_executor(kind: str, grace: float = 2.0):
    common = {"train_path": "fake_train:train", "checkpoint_seconds": 0.0, "cancel_grace": grace}
    if kind == "local":
        from server.jobs.executor import LocalProcessExecutor
        return LocalProcessExecutor(**common)
    if kind == "thread":
        from server.jobs.thread_executor import ThreadExecutor
        return ThreadExecutor(**common)
    if kind == "pooled":
        from server.jobs.executor import LocalProcessExecutor
        from server.jobs.pooled_executor import PooledExecutor
        return PooledExecutor(LocalProcessExecutor(**common), processes=1, default_lane="light", **common)
    if kind == "ray":   # this process is already connected to the test cluster: the executor joins it
        from ray_cluster import WORKER_RESOURCE
        from server.jobs.ray_executor import RayExecutor
        return RayExecutor(resources={WORKER_RESOURCE: 0.01}, **common)
    raise ValueError(kind)


def run(coro, timeout: float = 60):
    # a fresh loop in its own thread: another suite (Playwright's sync API) may own this thread's loop
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(coro, timeout=timeout)).result()


async def make_manager(kind, tmp_path, grace: float = 2.0, max_running: int = 2) -> JobManager:
    manager = JobManager(Storage(tmp_path / "db.sqlite3"), make_executor(kind, grace), tmp_path / "models",
                         max_running=max_running)
    await manager.start()
    return manager


async def wait_done(manager, job_id) -> dict:
    live = manager.live.get(job_id)
    if live is not None:
        await live.done.wait()
    return await manager.get_job(job_id)


async def until(sub, done) -> list[dict]:
    """The job's messages up to and including the first one `done(message)` accepts."""
    seen = []
    while True:
        for message in await sub.next_batch():
            seen.append(message)
            if done(message):
                return seen


def is_status(wanted):
    return lambda m: m["type"] == "status" and m["status"] == wanted


def is_epoch(m) -> bool:
    return m["type"] == "epoch"


async def until_terminal(messages, job_id: str) -> list:
    """Every message (of any job) up to and including `job_id`'s terminal one."""
    seen = []
    while True:
        for message in await anext(messages):
            seen.append(message)
            if message.job_id == job_id and isinstance(message, (Finished, Failed)):
                return seen


# -- the messages themselves -----------------------------------------------------------------------------------
def test_a_job_streams_its_events_then_exactly_one_finished_naming_its_artifact(kind, tmp_path):
    async def body():
        store = LocalArtifactStore(tmp_path / "models")
        executor = make_executor(kind)
        executor.start(store)
        messages = aiter(executor.messages())
        executor.submit("first", {"epochs": 3})
        seen = await until_terminal(messages, "first")
        executor.submit("second", {"epochs": 1})  # anything "first" still said would come before this ends
        seen += await until_terminal(messages, "second")
        await executor.shutdown()
        return store, seen

    store, seen = run(body())
    first = [m for m in seen if m.job_id == "first"]
    assert [m.event["epoch"] for m in first if isinstance(m, Event) and m.event["type"] == "epoch"] == [1, 2, 3]
    assert all(isinstance(m, Event) for m in first[:-1])
    assert first[-1] == Finished("first", "completed", "3 epochs", 3, "first")
    with store.open("first") as f:  # the artifact is in the server's store, whichever machine trained it
        assert f.read() == b"fake model 3"


def test_a_crashed_worker_gets_exactly_one_failed_and_the_executor_goes_on(kind, tmp_path):
    async def body():
        executor = make_executor(kind)
        executor.start(LocalArtifactStore(tmp_path / "models"))
        messages = aiter(executor.messages())
        executor.submit("crash", {"mode": CRASH_MODE[kind]})
        seen = await until_terminal(messages, "crash")
        executor.submit("after", {"epochs": 1})
        seen += await until_terminal(messages, "after")
        await executor.shutdown()
        return seen

    seen = run(body())
    terminals = [m for m in seen if isinstance(m, (Finished, Failed))]
    assert [type(m).__name__ for m in terminals] == ["Failed", "Finished"]
    assert terminals[0].job_id == "crash" and "died unexpectedly" in terminals[0].message
    assert terminals[1].job_id == "after" and terminals[1].outcome == "completed"


# -- through the manager: what the API sees ----------------------------------------------------------------------
def test_a_job_runs_and_its_epochs_best_and_model_are_stored(kind, tmp_path):
    async def body():
        m = await make_manager(kind, tmp_path)
        job = await m.create_job({"epochs": 3, "training": {"epochs": 3}})
        done = await wait_done(m, job["id"])
        public = m.public(done)
        epochs = [r["epoch"] for r in m.storage.get_epochs(job["id"])]
        with open(await m.model_file(job["id"]), "rb") as f:
            content = f.read()
        await m.shutdown()
        return done, public, epochs, content

    done, public, epochs, content = run(body())
    assert done["status"] == "completed" and done["epoch"] == 3 and done["best"]["epoch"] == 3
    assert epochs == [1, 2, 3] and public["has_model"] and content == b"fake model 3"


@pytest.mark.parametrize("mode, words", [("crash", "died unexpectedly"), ("raise", "bad data in fake spec")])
def test_a_worker_crash_or_exception_fails_the_job_and_frees_its_slot(kind, tmp_path, mode, words):
    async def body():
        m = await make_manager(kind, tmp_path, max_running=1)
        job = await m.create_job({"mode": CRASH_MODE[kind] if mode == "crash" else mode})
        after = await m.create_job({"epochs": 1})  # queued behind it: runs once the crashed job's slot is free
        done = await wait_done(m, job["id"])
        next_done = await wait_done(m, after["id"])
        await m.shutdown()
        return done, next_done

    done, next_done = run(body())
    assert done["status"] == "failed" and words in done["message"]
    assert next_done["status"] == "completed"


def test_pause_set_learning_rate_step_and_resume_reach_the_worker(kind, tmp_path):
    async def body():
        m = await make_manager(kind, tmp_path, max_running=1)
        blocker = await m.create_job(LONG)
        job = await m.create_job({"epochs": 4})  # queued behind the blocker
        sub, _ = m.subscribe(job["id"])
        await m.send_command(job["id"], {"cmd": "pause"})  # held while queued, delivered before the first epoch
        await m.cancel_job(blocker["id"])
        await until(sub, is_status("paused"))
        paused_in_db = m.storage.get_job(job["id"])["status"]
        await m.send_command(job["id"], {"cmd": "set", "learning_rate": 0.5})
        said = await until(sub, lambda x: x["type"] == "learning_rate")
        await m.send_command(job["id"], {"cmd": "step"})  # running, one epoch, paused again
        stepped = await until(sub, is_status("paused"))
        await m.send_command(job["id"], {"cmd": "resume"})
        done = await wait_done(m, job["id"])
        records = m.storage.get_epochs(job["id"])
        await m.shutdown()
        return paused_in_db, said, stepped, done, records

    paused_in_db, said, stepped, done, records = run(body())
    assert paused_in_db == "paused"
    assert said[-1]["learning_rate"] == 0.5
    assert [x["epoch"] for x in stepped if is_epoch(x)] == [1]
    assert done["status"] == "completed" and done["epoch"] == 4
    assert [r["learning_rate"] for r in records] == [0.5] * 4


def test_cancel_stops_a_running_job_within_a_second(kind, tmp_path):
    async def body():
        m = await make_manager(kind, tmp_path)
        job = await m.create_job(LONG)
        sub, _ = m.subscribe(job["id"])
        await until(sub, is_epoch)
        started = time.monotonic()
        done = await m.cancel_job(job["id"])
        seconds = time.monotonic() - started
        await m.shutdown()
        return done, seconds

    done, seconds = run(body())
    assert done["status"] == "cancelled" and done["outcome"] == "stopped"
    assert seconds < 1.0, f"cancel took {seconds:.2f} s"


def test_cancel_forces_a_job_that_ignores_it(kind, tmp_path):
    async def body():
        m = await make_manager(kind, tmp_path, grace=0.3)
        job = await m.create_job({"mode": "stuck", "epochs": 5})
        sub, _ = m.subscribe(job["id"])
        await until(sub, lambda message: message["type"] == "stuck")
        done = await m.cancel_job(job["id"])
        after = await m.create_job({"epochs": 1})  # the slot is free again
        after_done = await wait_done(m, after["id"])
        await m.shutdown()
        return done, after_done

    done, after_done = run(body())
    assert done["status"] == "cancelled" and done["message"].startswith("cancelled; the")
    assert after_done["status"] == "completed"


def test_a_server_restart_leaves_its_running_jobs_interrupted(kind, tmp_path):
    async def body():
        m = await make_manager(kind, tmp_path)
        job = await m.create_job(LONG)
        sub, _ = m.subscribe(job["id"])
        await until(sub, is_epoch)
        await m.shutdown()  # a clean stop: the job is interrupted now
        clean = m.storage.get_job(job["id"])["status"]
        m.storage.close()
        # a server that dies: the workers go with it and nothing records their end; the next start does
        m2 = await make_manager(kind, tmp_path)
        job2 = await m2.create_job(LONG)
        sub2, _ = m2.subscribe(job2["id"])
        await until(sub2, is_epoch)
        m2._task.cancel()
        await m2.executor.shutdown()
        before = m2.storage.get_job(job2["id"])["status"]
        m2.storage.close()
        m3 = await make_manager(kind, tmp_path)
        restarted = (await m3.get_job(job2["id"]))["status"]
        fresh = await m3.create_job({"epochs": 1})
        fresh_done = await wait_done(m3, fresh["id"])
        await m3.shutdown()
        return clean, before, restarted, fresh_done

    clean, before, restarted, fresh_done = run(body())
    assert clean == "interrupted"
    assert before == "running" and restarted == "interrupted"
    assert fresh_done["status"] == "completed"


def test_artifacts_round_trip_a_job_starts_from_another_jobs_model(kind, tmp_path):
    async def body():
        m = await make_manager(kind, tmp_path, max_running=1)
        first = await m.create_job({"epochs": 2})
        await wait_done(m, first["id"])
        blocker = await m.create_job(LONG)
        second = await m.create_job({"epochs": 1}, init_from=first["id"])
        sub, _ = m.subscribe(second["id"])  # while it is queued: nothing it says is missed
        await m.cancel_job(blocker["id"])
        init = await until(sub, lambda x: x["type"] == "init")
        await wait_done(m, second["id"])
        with m.artifacts.open(second["id"]) as f:
            content = f.read()
        await m.delete_job(first["id"])
        gone = m.artifacts.exists(first["id"])
        await m.shutdown()
        return init[-1]["content"], content, gone

    init_content, content, gone = run(body())
    assert init_content == "fake model 2"  # the worker read the first job's model, wherever it ran
    assert content == b"fake model 1" and not gone


def test_the_local_artifact_store_puts_atomically_and_refuses_paths(tmp_path):
    store = LocalArtifactStore(tmp_path / "models")
    with pytest.raises(ArtifactMissing):
        store.open("abc123")
    store.put("abc123", b"one")
    store.put("abc123", b"two")
    with store.open("abc123") as f:
        assert f.read() == b"two"
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["abc123.npz"]  # no temp file left
    store.delete("abc123")
    assert not store.exists("abc123")
    with pytest.raises(ValueError):
        store.path("../escape")
