"""Disk full, on a real 4 MB tmpfs: POST /api/jobs answers 507, a job whose writes fail ends with the
database row and the API saying the same thing at every moment, and everything works again once there is room."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server.jobs.storage import Storage, StorageUnavailable
from server.main import create_app
from server.settings import Settings
from server_support import tiny_spec, wait_for

FINAL = ("completed", "early_stopped", "diverged", "cancelled", "failed", "interrupted")


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}); needs root")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(folder: Path) -> Path:
    """Write zeros until the file system is full; returns the filler file (delete it to make room)."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    block = b"\0" * 4096
    try:
        while True:
            os.write(fd, block)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def app(home: Path) -> TestClient:
    return TestClient(create_app(Settings(home=home, workers_jobs=1, checkpoint_seconds=0.0, max_light_jobs=0,
                                          pool_processes=0, allowed_hosts=["testserver"])))  # one queue


def db_status(home: Path, job_id: str) -> str:
    db = sqlite3.connect(f"file:{home / 'nnplay.sqlite3'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()[0]
    finally:
        db.close()


def test_storage_refuses_writes_with_507_while_full_and_works_again_after(small_disk):
    storage = Storage(small_disk / "nnplay.sqlite3")
    job = storage.create_job({"a": 1}, 1)
    filler = fill(small_disk)
    with pytest.raises(StorageUnavailable) as info:
        for i in range(2000):  # the write-ahead log grows until the disk refuses it
            storage.write_batch([(job["id"], {"epoch": i, "pad": "x" * 2000})], [])
    assert info.value.status == 507 and "free some disk space" in info.value.message
    filler.unlink()
    storage.update_job(job["id"], status="completed")  # the same connection recovers
    assert storage.get_job(job["id"])["status"] == "completed"
    storage.close()


def test_create_job_answers_507_when_the_disk_is_full_and_recovers(small_disk):
    with app(small_disk) as client:
        assert client.post("/api/jobs", json=tiny_spec(epochs=2)).status_code == 201
        filler = fill(small_disk)
        res = client.post("/api/jobs", json=tiny_spec(epochs=2))
        assert res.status_code == 507, res.text
        assert "free some disk space" in res.json()["message"] and "nothing was queued" in res.json()["message"]
        assert client.get("/api/jobs").json()["total"] == 1
        filler.unlink()
        job_id = client.post("/api/jobs", json=tiny_spec(epochs=2)).json()["id"]
        wait_for(lambda: client.get(f"/api/jobs/{job_id}").json()["status"] == "completed")


def test_a_job_whose_writes_fail_keeps_row_and_api_in_step_and_fails_once_there_is_room(small_disk):
    with app(small_disk) as client:
        spec = tiny_spec(epochs=None)
        spec["stream"]["max_epochs_per_second"] = 20
        job_id = client.post("/api/jobs", json=spec).json()["id"]
        wait_for(lambda: client.get(f"/api/jobs/{job_id}").json()["epoch"] >= 3)
        filler = fill(small_disk)
        seen = set()
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:  # while full: the row says what the API says
            before = client.get(f"/api/jobs/{job_id}").json()
            row = db_status(small_disk, job_id)
            after = client.get(f"/api/jobs/{job_id}").json()
            assert row in (before["status"], after["status"]), (row, before["status"], after["status"])
            seen.add(after["status"])
            time.sleep(0.1)
        print("statuses seen while full:", sorted(seen))
        filler.unlink()
        job = wait_for(lambda: (j := client.get(f"/api/jobs/{job_id}").json())["status"] in FINAL and j)
        assert job["status"] == "failed" and db_status(small_disk, job_id) == "failed"
        assert "space" in job["message"] or "full" in job["message"]
        again = client.post("/api/jobs", json=tiny_spec(epochs=2)).json()["id"]  # the server recovered
        wait_for(lambda: client.get(f"/api/jobs/{again}").json()["status"] == "completed")


@pytest.fixture
def full_models_disk(tmp_path):
    """A home whose database is on the ordinary disk and whose models folder is a 4 MB tmpfs."""
    home = tmp_path / "home"
    models = home / "models"
    models.mkdir(parents=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(models)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}); needs root")
    yield home
    subprocess.run(["umount", "-l", str(models)], check=False)


def run_until_a_checkpoint_fails(client, home: Path) -> tuple[str, Path, dict]:
    """Start a 60-epoch job, pause it, fill the models disk, resume it and read its socket until the
    skipped-checkpoint warning arrives; returns (job id, the filler file, the warning)."""
    spec = tiny_spec(epochs=60)
    spec["stream"]["max_epochs_per_second"] = 20
    job_id = client.post("/api/jobs", json=spec).json()["id"]
    wait_for(lambda: client.get(f"/api/jobs/{job_id}").json()["epoch"] >= 2)
    assert client.post(f"/api/jobs/{job_id}/commands", json={"cmd": "pause"}).status_code == 200
    wait_for(lambda: client.get(f"/api/jobs/{job_id}").json()["status"] == "paused")
    filler = fill(home / "models")
    with client.websocket_connect(f"/ws/jobs/{job_id}") as ws:
        ws.send_json({"cmd": "resume"})
        while not ((m := ws.receive_json())["type"] == "error" and m.get("recoverable")):
            assert m["type"] != "done", m  # the job must not end before the warning
        warning = m
        epochs_after = 0
        while epochs_after < 3:  # the job goes on training after the failed checkpoint
            m = ws.receive_json()
            assert not (m["type"] == "error" and m.get("recoverable")), "warned twice"
            epochs_after += m["type"] == "epoch"
    return job_id, filler, warning


def test_a_failed_checkpoint_is_skipped_with_one_warning_and_the_job_still_completes(full_models_disk):
    with app(full_models_disk) as client:
        job_id, filler, warning = run_until_a_checkpoint_fails(client, full_models_disk)
        assert "checkpoint skipped" in warning["message"] and "the disk is full" in warning["message"]
        assert "Errno" not in warning["message"]
        filler.unlink()  # room again before the end: the final save lands
        job = wait_for(lambda: (j := client.get(f"/api/jobs/{job_id}").json())["status"] in FINAL and j)
        assert job["status"] == "completed" and job["epoch"] == 60 and job["has_model"], job
        assert db_status(full_models_disk, job_id) == "completed"


def test_a_final_save_on_a_full_disk_fails_the_job_with_a_plain_message(full_models_disk):
    with app(full_models_disk) as client:
        job_id, filler, _ = run_until_a_checkpoint_fails(client, full_models_disk)
        job = wait_for(lambda: (j := client.get(f"/api/jobs/{job_id}").json())["status"] in FINAL and j)
        assert job["status"] == "failed" and db_status(full_models_disk, job_id) == "failed", job
        assert job["message"].startswith("could not save the model file: the disk is full"), job["message"]
        assert "Errno" not in job["message"] and "OSError" not in job["message"]
        filler.unlink()


def test_a_queued_job_whose_start_cannot_be_recorded_stays_queued_and_starts_once_there_is_room(small_disk):
    with app(small_disk) as client:  # one worker: the second job waits for the first
        manager = client.app.state.manager
        spec = tiny_spec(epochs=None)
        spec["stream"]["max_epochs_per_second"] = 20
        first = client.post("/api/jobs", json=spec).json()["id"]
        second = client.post("/api/jobs", json=tiny_spec(epochs=3)).json()["id"]
        wait_for(lambda: client.get(f"/api/jobs/{first}").json()["epoch"] >= 2)
        assert client.get(f"/api/jobs/{second}").json()["status"] == "queued"
        with client.websocket_connect(f"/ws/jobs/{second}") as ws:
            assert ws.receive_json()["type"] == "status"
            filler = fill(small_disk)  # the first job's progress cannot be recorded: it is stopped ...
            wait_for(lambda: first not in manager.executor.workers)  # ... its slot is free, the second starts
            while not ((m := ws.receive_json())["type"] == "error"):
                pass
            assert m["recoverable"] and "waiting to start" in m["message"] and "free some disk space" in m["message"]
            deadline = time.monotonic() + 2.5  # two retries while full: still queued, in the row and the API
            while time.monotonic() < deadline:
                job = client.get(f"/api/jobs/{second}").json()
                assert job["status"] == "queued" == db_status(small_disk, second), job
                assert job["queue_position"] == 1 and second not in manager.executor.workers
                time.sleep(0.1)
        filler.unlink()
        job = wait_for(lambda: (j := client.get(f"/api/jobs/{second}").json())["status"] in FINAL and j)
        assert job["status"] == "completed" and db_status(small_disk, second) == "completed", job
        assert client.get(f"/api/jobs/{first}").json()["status"] == "failed" == db_status(small_disk, first)
