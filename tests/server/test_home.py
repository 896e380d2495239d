"""The home folder under faults: one server per home (lock file), a damaged or empty database stops the
start with what to do, model paths are relative (a copied home is its own), crash leftovers go away."""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient

from server.cli import main
from server.home import LOCK_NAME, HomeInUse, HomeLock, holder
from server.jobs.storage import CorruptDatabase, Storage
from server.main import create_app
from server.settings import Settings
from server_support import LiveServer, tiny_spec, wait_for
from tests.live_server import LiveServer as CliServer


def app_client(home) -> TestClient:
    return TestClient(create_app(Settings(home=home, workers_jobs=1, checkpoint_seconds=0.0,
                                          allowed_hosts=["testserver"])))


def run_job(client) -> str:
    job_id = client.post("/api/jobs", json=tiny_spec(epochs=3)).json()["id"]
    wait_for(lambda: client.get(f"/api/jobs/{job_id}").json()["status"] == "completed")
    return job_id


# -- two servers on one home -------------------------------------------------------------------------
def test_a_second_server_on_the_same_home_refuses_to_start_naming_the_first(tmp_path):
    first = LiveServer(tmp_path).start()
    try:
        second = LiveServer(tmp_path)
        with pytest.raises(RuntimeError) as info:
            second.start()
        log = str(info.value)
        assert f"already using {tmp_path}" in log and f"pid {first.proc.pid}" in log
        with first.client() as http:  # the first one is untouched
            assert http.get("/api/health").status_code == 200
        cli = CliServer(tmp_path, cli_args=())
        with pytest.raises(RuntimeError) as info:
            cli.start()
        assert cli.proc.returncode == 2 and "nnplay serve: another NN Playground server" in str(info.value)
    finally:
        first.stop()


def test_a_stale_lock_of_a_dead_server_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / LOCK_NAME).write_text(f"{dead.pid}\n")
    with HomeLock(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text().strip() == str(__import__("os").getpid())
    assert holder(tmp_path) is None


def test_a_live_holder_is_named_by_pid(tmp_path):
    code = ("import sys, time; sys.path.insert(0, '.'); from server.home import HomeLock; "
            f"HomeLock({str(tmp_path)!r}).acquire(); print('held', flush=True); time.sleep(30)")
    other = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "held"
        with pytest.raises(HomeInUse, match=f"pid {other.pid}"):
            HomeLock(tmp_path).acquire()
        assert holder(tmp_path) == other.pid
    finally:
        other.kill()
        other.wait()
    with HomeLock(tmp_path):  # its death released the lock
        pass


# -- corrupt or empty database -------------------------------------------------------------------------
@pytest.mark.parametrize("content,reason", [(b"", "is empty (0 bytes)"),
                                            (b"this is not sqlite at all" * 100, "cannot be read")])
def test_a_damaged_database_stops_the_start_naming_the_file_and_the_fix(tmp_path, content, reason):
    db = tmp_path / "nnplay.sqlite3"
    db.write_bytes(content)
    with pytest.raises(CorruptDatabase) as info:
        Storage(db)
    message = str(info.value)
    assert str(db) in message and reason in message and "--reset-db" in message and "nnplay doctor" in message
    with pytest.raises(CorruptDatabase):
        app_client(tmp_path).__enter__()
    assert db.read_bytes() == content  # nothing was overwritten
    assert holder(tmp_path) is None  # the failed start let go of the home


def test_doctor_reports_the_damaged_database_and_orphaned_model_files(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NNPLAY_HOME", str(tmp_path))
    (tmp_path / "models").mkdir()
    for i in range(3):
        (tmp_path / "models" / f"job{i}.npz").write_bytes(b"x")
    (tmp_path / "nnplay.sqlite3").write_bytes(b"")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "is empty (0 bytes)" in out and "--reset-db" in out
    (tmp_path / "nnplay.sqlite3").unlink()
    assert main(["doctor"]) == 1
    assert "3 model file(s)" in capsys.readouterr().out


def test_serve_reset_db_keeps_a_backup_and_starts_empty(tmp_path):
    db = tmp_path / "nnplay.sqlite3"
    db.write_bytes(b"")
    server = CliServer(tmp_path, cli_args=("--reset-db",)).start()
    try:
        with server.client() as http:
            assert http.get("/api/jobs").json()["total"] == 0
        backups = list(tmp_path.glob("nnplay.sqlite3.bak-*"))
        assert len(backups) == 1 and backups[0].stat().st_size == 0
        assert "moved the job database to" in "".join(server.log)
    finally:
        server.stop()


# -- relocatable home -------------------------------------------------------------------------------------
def test_a_copied_home_reads_and_deletes_its_own_model_files(tmp_path):
    original, copy = tmp_path / "a", tmp_path / "b"
    with app_client(original) as client:
        job_id = run_job(client)
    stored = sqlite3.connect(original / "nnplay.sqlite3").execute("SELECT model_path FROM jobs").fetchone()[0]
    assert stored == f"models/{job_id}.npz"
    shutil.copytree(original, copy)
    with app_client(copy) as client:
        assert client.get(f"/api/jobs/{job_id}").json()["has_model"]
        assert client.get(f"/api/jobs/{job_id}/weights").status_code == 200
        assert client.delete(f"/api/jobs/{job_id}").status_code == 204
    assert not (copy / "models" / f"{job_id}.npz").exists()
    assert (original / "models" / f"{job_id}.npz").exists()


def test_absolute_paths_of_older_rows_are_migrated_on_open(tmp_path):
    original, copy = tmp_path / "a", tmp_path / "b"
    with app_client(original) as client:
        job_id = run_job(client)
    db = sqlite3.connect(original / "nnplay.sqlite3")  # as an older release wrote it
    db.execute("UPDATE jobs SET model_path = ?", (str(original / "models" / f"{job_id}.npz"),))
    db.commit()
    db.close()
    shutil.copytree(original, copy)
    (original / "models" / f"{job_id}.npz").unlink()  # the copy must not lean on the original
    storage = Storage(copy / "nnplay.sqlite3")
    assert storage.get_job(job_id)["model_path"] == str((copy / "models" / f"{job_id}.npz").resolve())
    storage.close()
    assert sqlite3.connect(copy / "nnplay.sqlite3").execute("SELECT model_path FROM jobs").fetchone()[0] \
        == f"models/{job_id}.npz"


def test_leftover_temp_files_of_a_crash_are_removed_at_startup(tmp_path):
    models = tmp_path / "models"
    models.mkdir(parents=True)
    (models / ".tmp-abc123.npz").write_bytes(b"half a model")
    (models / "keep.npz").write_bytes(b"x")
    with app_client(tmp_path) as client:
        assert client.get("/api/health").status_code == 200
    assert sorted(p.name for p in models.iterdir()) == ["keep.npz"]
