"""JobManager + LocalProcessExecutor with a fake train function (real processes, no engine)."""
import asyncio
import os
import concurrent.futures

import pytest

from engine.errors import SpecError
from server.jobs.executor import LocalProcessExecutor
from server.jobs.manager import JobError, JobManager
from server.jobs.storage import Storage


def run(coro):
    # a fresh loop in its own thread: another suite (Playwright's sync API) may own this thread's loop
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(coro, timeout=60)).result()


async def make_manager(tmp_path, max_running=1, grace=2.0):
    executor = LocalProcessExecutor(train_path="fake_train:train", checkpoint_seconds=0.0, cancel_grace=grace)
    manager = JobManager(Storage(tmp_path / "db.sqlite3"), executor, tmp_path / "models", max_running=max_running)
    await manager.start()
    return manager


async def wait_done(manager, job_id):
    live = manager.live.get(job_id)
    if live is not None:
        await live.done.wait()
    return await manager.get_job(job_id)


def test_job_runs_in_a_process_and_its_epochs_are_stored(tmp_path):
    async def body():
        m = await make_manager(tmp_path)
        job = await m.create_job({"epochs": 3, "training": {"epochs": 3}})
        done = await wait_done(m, job["id"])
        assert done["status"] == "completed" and done["epoch"] == 3 and done["best"]["epoch"] == 3
        assert [r["epoch"] for r in m.storage.get_epochs(job["id"])] == [1, 2, 3]
        assert open(m.model_path(job["id"]), "rb").read() == b"fake model 3"
        await m.shutdown()
    run(body())


@pytest.mark.parametrize("mode, words", [("crash", "exit code 3"), ("raise", "bad data in fake spec")])
def test_worker_crash_or_exception_fails_the_job_with_a_message(tmp_path, mode, words):
    async def body():
        m = await make_manager(tmp_path)
        job = await m.create_job({"mode": mode})
        done = await wait_done(m, job["id"])
        assert done["status"] == "failed" and words in done["message"]
        ok = await m.create_job({"epochs": 1})  # the next job still runs
        assert (await wait_done(m, ok["id"]))["status"] == "completed"
        await m.shutdown()
    run(body())


def test_cancel_terminates_a_job_stuck_outside_the_command_loop(tmp_path):
    async def body():
        m = await make_manager(tmp_path, grace=0.3)
        sub = None
        job = await m.create_job({"mode": "stuck", "epochs": 5})
        sub, _ = m.subscribe(job["id"])
        while not any(msg.get("type") == "stuck" for msg in await sub.next_batch()):
            pass
        done = await m.cancel_job(job["id"])
        assert done["status"] == "cancelled" and "SIGTERM" in done["message"]
        await m.shutdown()
    run(body())


def test_jobs_queue_fifo_beyond_the_running_limit(tmp_path):
    async def body():
        m = await make_manager(tmp_path, max_running=1)
        first = await m.create_job({"mode": "ok", "epochs": 50, "seconds": 0.02})
        second = await m.create_job({"epochs": 1})
        third = await m.create_job({"epochs": 1})
        assert m.queue_position(second["id"]) == 1 and m.queue_position(third["id"]) == 2
        await m.cancel_job(first["id"])
        assert (await wait_done(m, second["id"]))["status"] == "completed"
        assert (await wait_done(m, third["id"]))["status"] == "completed"
        await m.shutdown()
    run(body())


async def until_status(sub, wanted: str) -> list[dict]:
    """Messages up to the status message `wanted` (the manager only sends one when the trainer reports it;
    a newer status replaces an unsent one, as frames do)."""
    seen = []
    while True:
        for message in await sub.next_batch():
            seen.append(message)
            if message["type"] == "status" and message["status"] == wanted:
                return seen


def test_pause_step_resume_reach_the_worker_and_its_status_events_move_the_job(tmp_path):
    async def body():
        m = await make_manager(tmp_path)
        job = await m.create_job({"epochs": 4})
        sub, _ = m.subscribe(job["id"])
        await m.send_command(job["id"], {"cmd": "pause"})  # delivered before the first epoch
        await until_status(sub, "paused")
        assert m.storage.get_job(job["id"])["status"] == "paused"  # stored before it was sent
        await m.send_command(job["id"], {"cmd": "step"})  # running, one epoch, paused again
        seen = await until_status(sub, "paused")
        assert [x["epoch"] for x in seen if x["type"] == "epoch"] == [1]
        assert m.storage.get_job(job["id"])["epoch"] == 1 and m.live[job["id"]].status == "paused"
        await m.send_command(job["id"], {"cmd": "resume"})
        assert (await wait_done(m, job["id"]))["epoch"] == 4
        with pytest.raises(JobError) as e:
            await m.send_command(job["id"], {"cmd": "pause"})
        assert e.value.status == 409
        await m.shutdown()
    run(body())


def test_a_command_alone_does_not_change_the_status(tmp_path):
    async def body():
        m = await make_manager(tmp_path, grace=0.3)
        job = await m.create_job({"mode": "stuck", "epochs": 5})
        sub, _ = m.subscribe(job["id"])
        while not any(msg.get("type") == "stuck" for msg in await sub.next_batch()):
            pass
        public = await m.send_command(job["id"], {"cmd": "pause"})  # the stuck trainer never applies it
        assert public["status"] == "running" and m.live[job["id"]].status == "running"
        assert m.storage.get_job(job["id"])["status"] == "running"
        await m.cancel_job(job["id"])
        await m.shutdown()
    run(body())


def test_status_machine_never_leaves_a_final_status():
    from server.jobs import status

    assert status.can_move("queued", "running") and status.can_move("running", "paused")
    assert not status.can_move("queued", "paused")  # only a running trainer pauses
    for final in status.FINAL_STATES:
        assert not any(status.can_move(final, other) for other in status.JOB_STATES)
    assert status.result_status("completed", cancel_requested=True) == "cancelled"
    assert status.result_status("stopped", cancel_requested=False) == "cancelled"


@pytest.mark.parametrize("busy, expected", [(0.0, str(os.cpu_count() or 1)), (99.0, "1")])
def test_a_job_training_alone_gets_the_free_cores_under_the_default_thread_policy(tmp_path, busy, expected):
    async def body():
        m = await make_manager(tmp_path)
        m.executor._busy = lambda own_threads: busy     # idle machine / other processes on every core
        job = await m.create_job({"mode": "threads"})
        await wait_done(m, job["id"])
        epoch = m.storage.get_epochs(job["id"])[0]
        assert epoch["threads"] == expected and epoch["blas_threads"] == "1"
        await m.shutdown()
    run(body())


@pytest.mark.parametrize("command, field", [
    ({"cmd": "explode"}, "cmd"), ({"cmd": "set", "learning_rate": -1}, "learning_rate"),
    ({"cmd": "set", "learning_rate": float("nan")}, "learning_rate"), ("pause", "cmd"),
    ({"cmd": "set", "lr": 1}, "lr"), ({"cmd": "set", "learning_rate": "0.1"}, "learning_rate"),
    ({"cmd": "set", "learning_rate": True}, "learning_rate"), ({"cmd": "pause", "now": 1}, "now")])
def test_bad_commands_are_refused_naming_the_field(tmp_path, command, field):
    async def body():
        m = await make_manager(tmp_path)
        job = await m.create_job({"epochs": 1})
        with pytest.raises(SpecError) as e:
            await m.send_command(job["id"], command)
        assert field in [p.path for p in e.value.problems]
        assert "pause" in str(e.value) or "learning_rate" in str(e.value)
        await m.shutdown()
    run(body())


def test_a_database_from_before_init_from_opens_and_keeps_its_jobs(tmp_path):
    import sqlite3

    from server.jobs import storage

    old_schema = storage.SCHEMA.replace(",\n    init_from TEXT", "")
    assert "init_from" not in old_schema
    db = sqlite3.connect(tmp_path / "old.sqlite3")
    db.executescript(old_schema)
    db.execute("INSERT INTO jobs (id, seq, status, spec, created_at, epochs) VALUES ('old', 1, 'completed', '{}', 0, 3)")
    db.commit()
    db.close()
    s = Storage(tmp_path / "old.sqlite3")
    assert s.get_job("old")["init_from"] is None and s.get_job("old")["epochs"] == 3
    assert s.get_job(s.create_job({}, 0, init_from="old")["id"])["init_from"] == "old"


class SlowStartStorage(Storage):
    """The write that records a job's start takes a while (a busy disk)."""

    def update_job(self, job_id, **fields):
        if "started_at" in fields:
            import time
            time.sleep(0.3)
        return super().update_job(job_id, **fields)


def test_a_job_that_ends_before_its_start_is_stored_still_ends_in_the_database(tmp_path):
    # a thread (or warm) worker can crash within microseconds of submit; the "running" row written after
    # submit must not land over the job's final status
    from server.jobs.thread_executor import ThreadExecutor

    async def body():
        executor = ThreadExecutor(train_path="fake_train:train", checkpoint_seconds=0.0)
        m = JobManager(SlowStartStorage(tmp_path / "db.sqlite3"), executor, tmp_path / "models")
        await m.start()
        job = await m.create_job({"mode": "raise"})
        done = await wait_done(m, job["id"])
        await m.shutdown()
        return done, m.storage.get_job(job["id"])

    done, stored = run(body())
    assert done["status"] == stored["status"] == "failed"
