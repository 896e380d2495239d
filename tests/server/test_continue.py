"""Continuing a job (init_from) and open-ended jobs (training.epochs null), through the REST API."""
from __future__ import annotations

import pytest

from server_support import tiny_spec
from test_api import run_job


def history(client, job_id: str) -> list[float]:
    return [r["train_loss"] for r in client.get(f"/api/jobs/{job_id}/history").json()["epochs"]]


def test_a_continued_job_starts_where_its_parent_ended(client):
    parent = run_job(client, tiny_spec(epochs=5))
    child = run_job(client, {**tiny_spec(epochs=5), "init_from": {"job_id": parent["id"]}})
    assert child["status"] == "completed" and child["init_from"] == {"job_id": parent["id"]}
    first, last = history(client, parent["id"]), history(client, child["id"])
    fresh_first, parent_last, child_first = first[0], first[-1], last[0]  # same seed: a fresh job's first epoch
    assert fresh_first - parent_last > 0.3  # the parent learned something
    assert abs(child_first - parent_last) < 0.25 * (fresh_first - parent_last)


def test_init_from_an_unknown_job_is_a_422_naming_the_field(client):
    r = client.post("/api/jobs", json={**tiny_spec(), "init_from": {"job_id": "nope"}})
    assert r.status_code == 422 and [d["field"] for d in r.json()["detail"]] == ["init_from.job_id"]
    assert client.get("/api/jobs").json()["total"] == 0  # nothing was queued


def test_init_from_a_job_without_a_model_is_a_422(make_client):
    client = make_client(workers_jobs=1)
    busy = client.post("/api/jobs", json=tiny_spec(epochs=100_000)).json()
    queued = client.post("/api/jobs", json=tiny_spec(epochs=1)).json()
    client.post(f"/api/jobs/{queued['id']}/cancel")  # never ran: no model file
    r = client.post("/api/jobs", json={**tiny_spec(), "init_from": {"job_id": queued["id"]}})
    assert r.status_code == 422 and "no saved model" in r.json()["message"]
    assert r.json()["detail"][0]["field"] == "init_from.job_id"
    client.post(f"/api/jobs/{busy['id']}/cancel")


def test_init_from_a_different_network_is_a_422_before_queueing(client):
    parent = run_job(client, tiny_spec(epochs=1))
    spec = tiny_spec()
    spec["model"]["layers"][0]["units"] = 8
    r = client.post("/api/jobs", json={**spec, "init_from": {"job_id": parent["id"]}})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "model.layers.0.units"
    assert client.get("/api/jobs").json()["total"] == 1


def test_an_open_ended_job_runs_until_cancelled(client):
    r = client.post("/api/jobs", json=tiny_spec(epochs=None))
    job = r.json()
    assert r.status_code == 201 and job["epochs"] is None and job["progress"] is None
    assert job["spec"]["training"]["epochs"] is None
    with client.websocket_connect(f"/ws/jobs/{job['id']}") as ws:
        while not ((m := ws.receive_json())["type"] == "epoch" and m["epoch"] >= 3):
            pass
        ws.send_json({"cmd": "cancel"})
        while ws.receive_json()["type"] != "done":
            pass
    done = client.get(f"/api/jobs/{job['id']}").json()
    assert done["status"] == "cancelled" and done["epoch"] >= 3 and done["progress"] is None


def test_an_open_ended_job_stops_at_the_servers_epoch_limit(make_client):
    client = make_client(engine_overrides={"max_epochs": 4})
    job_id = client.post("/api/jobs", json=tiny_spec(epochs=None)).json()["id"]
    epochs = []
    with client.websocket_connect(f"/ws/jobs/{job_id}") as ws:
        while (m := ws.receive_json())["type"] != "done":
            if m["type"] == "epoch":
                epochs.append(m["epoch"])
                assert m["epoch"] <= 4, "ran past the server's max_epochs"
    assert epochs == [1, 2, 3, 4] and m["status"] == "completed"


def _wait_for_final(client, job_id, seconds=20.0):
    import time
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running", "paused"):
            return job
        time.sleep(0.05)
    return job


def test_an_open_ended_run_whose_page_closed_is_stopped_and_keeps_its_model(make_client):
    # a closed playground tab must not hold a training slot forever (a class of thirty shares two)
    client = make_client(unwatched_seconds=0.3)
    job_id = client.post("/api/jobs", json=tiny_spec(epochs=None)).json()["id"]
    with client.websocket_connect(f"/ws/jobs/{job_id}") as ws:
        while not ((m := ws.receive_json())["type"] == "epoch" and m["epoch"] >= 2):
            pass
    job = _wait_for_final(client, job_id)
    assert job["status"] == "cancelled" and "no one watching" in job["message"], job
    assert job["has_model"] and job["epoch"] >= 2
    assert client.get("/api/catalog").json()["limits"]["unwatched_seconds"] == 0.3


def test_a_viewer_that_comes_back_within_the_grace_keeps_the_run_and_a_run_never_watched_is_left_alone(make_client):
    import time
    client = make_client(unwatched_seconds=0.5)
    watched = client.post("/api/jobs", json=tiny_spec(epochs=None)).json()["id"]
    scripted = client.post("/api/jobs", json=tiny_spec(epochs=None)).json()["id"]   # REST only, never watched
    with client.websocket_connect(f"/ws/jobs/{watched}") as ws:
        ws.receive_json()
    with client.websocket_connect(f"/ws/jobs/{watched}") as ws:   # the page reconnects at once
        ws.receive_json()
        time.sleep(1.0)                                            # past the grace while watched
        assert client.get(f"/api/jobs/{watched}").json()["status"] == "running"
    assert client.get(f"/api/jobs/{scripted}").json()["status"] == "running"
    for job_id in (watched, scripted):
        client.post(f"/api/jobs/{job_id}/cancel")


@pytest.mark.parametrize("lanes", [{}, {"max_light_jobs": 8, "pool_processes": 1}])
def test_a_job_created_paused_takes_no_step_before_step_batch(make_client, lanes):
    # the playground's +1 batch from idle: a pause sent over the socket after creating raced a warm pool
    # worker that starts at once (it trained whole epochs before the pause arrived)
    import time
    client = make_client(**lanes)
    r = client.post("/api/jobs", json={**tiny_spec(epochs=None), "paused": True})
    assert r.status_code == 201 and "paused" not in r.json()["spec"]
    job_id = r.json()["id"]
    deadline = time.monotonic() + 30
    while (job := client.get(f"/api/jobs/{job_id}").json())["status"] != "paused" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job["status"] == "paused" and job["epoch"] == 0, job
    assert client.post(f"/api/jobs/{job_id}/commands", json={"cmd": "step"}).status_code == 200
    while (job := client.get(f"/api/jobs/{job_id}").json())["epoch"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)                                   # a job that had not stayed paused would run on
    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["epoch"] == 1 and job["status"] == "paused", job
    client.post(f"/api/jobs/{job_id}/cancel")


def test_paused_must_be_a_boolean(client):
    r = client.post("/api/jobs", json={**tiny_spec(epochs=3), "paused": "yes"})
    assert r.status_code == 422 and "paused" in r.text
