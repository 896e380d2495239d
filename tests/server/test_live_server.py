"""A real uvicorn (server.main:app) on a free 127.0.0.1 port: sockets, commands, crashes, restarts."""
from __future__ import annotations

import json
import time

import pytest
from websockets.sync.client import connect

from server_support import LiveServer, diverging_spec, tiny_spec, wait_for
from fault_train import CRASH_SEED


class Watcher:
    """A WebSocket client on one job that collects messages."""

    def __init__(self, server, job_id: str, since: int = 0):
        self._connection = connect(f"{server.ws_url}/ws/jobs/{job_id}?since={since}", open_timeout=10)
        self.ws = self._connection.__enter__()
        self.messages: list[dict] = []

    def next(self, timeout: float = 20) -> dict:
        message = json.loads(self.ws.recv(timeout=timeout))
        self.messages.append(message)
        return message

    def until(self, predicate, timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            message = self.next(max(0.01, deadline - time.monotonic()))
            if predicate(message):
                return message

    def until_done(self) -> dict:
        return self.until(lambda m: m["type"] in ("done", "error"))

    def epochs(self) -> list[int]:
        return [m["epoch"] for m in self.messages if m["type"] == "epoch"]

    def send(self, command: dict) -> None:
        self.ws.send(json.dumps(command))

    def close(self) -> None:
        self._connection.__exit__(None, None, None)


def create(http, spec) -> str:
    r = http.post("/api/jobs", json=spec)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_full_life_cycle_streams_every_epoch_then_done(live):
    with live.client() as http:
        job_id = create(http, tiny_spec(epochs=8))
        w = Watcher(live, job_id)
        done = w.until_done()
        w.close()
        assert w.messages[0]["type"] == "status"
        assert w.epochs() == list(range(1, 9))
        assert {"boundary", "histograms", "gradients"} <= {m["type"] for m in w.messages}
        assert done["status"] == "completed" and done["outcome"] == "completed"
        job = http.get(f"/api/jobs/{job_id}").json()
        assert job["status"] == "completed" and job["epoch"] == 8 and job["has_model"]


def test_reconnect_with_since_has_no_gap_and_no_duplicate(live):
    with live.client() as http:
        job_id = create(http, tiny_spec(epochs=300))
        first = Watcher(live, job_id)
        first.until(lambda m: m["type"] == "epoch" and m["epoch"] >= 5)
        first.close()
        seen = first.epochs()
        second = Watcher(live, job_id, since=seen[-1])
        second.until_done()
        second.close()
        assert seen + second.epochs() == list(range(1, 301))


def test_pause_step_resume_cancel_over_the_socket(live):
    with live.client() as http:
        job_id = create(http, tiny_spec(epochs=100_000))
        w = Watcher(live, job_id)
        w.until(lambda m: m["type"] == "epoch" and m["epoch"] >= 3)
        w.send({"cmd": "pause"})
        w.until(lambda m: m["type"] == "status" and m["status"] == "paused")

        def settled():
            first = http.get(f"/api/jobs/{job_id}").json()["epoch"]
            time.sleep(0.3)  # absence of progress can only be observed over time
            return first if http.get(f"/api/jobs/{job_id}").json()["epoch"] == first else None

        paused_at = wait_for(settled)
        w.send({"cmd": "step"})
        w.until(lambda m: m["type"] == "epoch" and m["epoch"] == paused_at + 1)
        assert settled() == paused_at + 1  # exactly one epoch, still paused
        assert http.get(f"/api/jobs/{job_id}").json()["status"] == "paused"
        w.send({"cmd": "set", "learning_rate": 0.001})
        w.send({"cmd": "resume"})
        record = w.until(lambda m: m["type"] == "epoch" and m["epoch"] >= paused_at + 5)
        assert record["learning_rate"] == pytest.approx(0.001)
        w.send({"cmd": "bogus"})
        assert "pause" in w.until(lambda m: m["type"] == "error")["message"]
        w.send({"cmd": "set", "learning_rate": "0.1"})  # a string is refused, not coerced, on both surfaces
        refused = w.until(lambda m: m["type"] == "error")
        rest = http.post(f"/api/jobs/{job_id}/commands", json={"cmd": "set", "learning_rate": "0.1"})
        assert rest.status_code == 422 and rest.json()["message"] == refused["message"]
        w.send({"cmd": "cancel"})
        done = w.until_done()
        w.close()
        assert done["status"] == "cancelled"
        epochs = w.epochs()
        assert epochs == list(range(1, epochs[-1] + 1))  # in order, none missing


def test_worker_crash_fails_the_job_and_the_server_stays_healthy(live):
    with live.client() as http:
        job_id = create(http, tiny_spec(epochs=5, seed=CRASH_SEED))
        w = Watcher(live, job_id)
        done = w.until_done()
        w.close()
        assert done["status"] == "failed" and "SIGSEGV" in done["message"]
        assert http.get("/api/health").json()["status"] == "ok"
        assert http.get(f"/api/jobs/{job_id}").json()["status"] == "failed"
        ok = create(http, tiny_spec(epochs=2))
        w = Watcher(live, ok)
        assert w.until_done()["status"] == "completed"
        w.close()


def test_diverging_job_ends_diverged_with_a_message(live):
    with live.client() as http:
        job_id = create(http, diverging_spec())
        w = Watcher(live, job_id)
        done = w.until_done()
        w.close()
        assert done["status"] == "diverged" and "learning rate" in done["message"]
        assert http.get(f"/api/jobs/{job_id}").json()["outcome"] == "diverged"


def test_kill_9_mid_job_keeps_finished_jobs_and_marks_the_running_one_interrupted(tmp_path):
    home = tmp_path / "home"
    first = LiveServer(home).start()
    try:
        with first.client() as http:
            finished = create(http, tiny_spec(epochs=3))
            w = Watcher(first, finished)
            w.until_done()
            w.close()
            running = create(http, tiny_spec(epochs=100_000))
            w = Watcher(first, running)
            w.until(lambda m: m["type"] == "epoch" and m["epoch"] >= 20)
            reported = w.epochs()
            first.kill9()
            w.close()
    finally:
        first.stop()
    second = LiveServer(home).start()
    try:
        with second.client() as http:
            done = http.get(f"/api/jobs/{finished}").json()
            assert done["status"] == "completed" and done["epoch"] == 3
            assert [r["epoch"] for r in http.get(f"/api/jobs/{finished}/history").json()["epochs"]] == [1, 2, 3]
            assert http.get(f"/api/jobs/{finished}/model").status_code == 200
            lost = http.get(f"/api/jobs/{running}").json()
            assert lost["status"] == "interrupted" and "server stopped" in lost["message"]
            history = [r["epoch"] for r in http.get(f"/api/jobs/{running}/history").json()["epochs"]]
            assert history[:len(reported)] == reported  # nothing that was reported is lost
            w = Watcher(second, running)
            assert w.until_done()["status"] == "interrupted"
            w.close()
    finally:
        second.stop()
