"""POST/GET /api/sweeps, cancel, narrowed: trials checked before any is queued, max_parallel held, early
termination, and a sweep that survives a restart."""
from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from server_support import tiny_spec, wait_for

LR = "training.optimizer.learning_rate"
L2 = "training.regularization.l2"
ACTIVE = ("queued", "running", "paused")


def sweep_body(n_trials: int = 4, epochs: int = 3, pace: float | None = None, **kw) -> dict:
    base = tiny_spec(epochs=epochs)
    base["stream"]["max_epochs_per_second"] = pace
    body = {"base": base, "method": "random", "n_trials": n_trials, "seed": 0, "max_parallel": 2,
            "metric": "train_loss",
            "parameters": {LR: {"distribution": "log_uniform", "min": 1e-3, "max": 1e-1},
                           L2: {"distribution": "log_uniform", "min": 1e-5, "max": 1e-2}}}
    body.update(kw)
    return body


def finished(client, sweep_id: str, timeout: float = 60) -> dict:
    return wait_for(lambda: (s := client.get(f"/api/sweeps/{sweep_id}").json())["status"] != "running" and s,
                    timeout=timeout)


def test_a_sweep_runs_every_trial_and_names_the_best(client):
    r = client.post("/api/sweeps", json=sweep_body())
    assert r.status_code == 201, r.text
    created = r.json()
    assert len(created["trials"]) == 4 and all(t["job_id"] and t["params"] for t in created["trials"])
    sweep = finished(client, created["id"])
    assert sweep["status"] == "completed" and sweep["counts"] == {"completed": 4}
    for trial in sweep["trials"]:
        job = client.get(f"/api/jobs/{trial['job_id']}").json()
        assert job["spec"]["training"]["optimizer"]["learning_rate"] == trial["params"][LR]
        assert job["spec"]["training"]["regularization"]["l2"] == trial["params"][L2]
        losses = [e["train_loss"] for e in client.get(f"/api/jobs/{trial['job_id']}/history").json()["epochs"]]
        assert trial["best"]["value"] == pytest.approx(min(losses))
    best = min(sweep["trials"], key=lambda t: t["best"]["value"])
    assert sweep["best"]["job_id"] == best["job_id"]
    listed = client.get("/api/sweeps").json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == created["id"]
    assert client.delete(f"/api/jobs/{sweep['trials'][0]['job_id']}").status_code == 204
    assert client.get(f"/api/sweeps/{created['id']}").json()["trials"][0]["status"] == "deleted"


def test_same_sweep_draws_the_same_trials(client):
    a = client.post("/api/sweeps", json=sweep_body()).json()
    b = client.post("/api/sweeps", json=sweep_body()).json()
    assert [t["params"] for t in a["trials"]] == [t["params"] for t in b["trials"]]
    assert {t["job_id"] for t in a["trials"]}.isdisjoint(t["job_id"] for t in b["trials"])


def test_one_bad_trial_refuses_the_sweep_and_queues_nothing(client):
    body = sweep_body(parameters={"model.layers.0.units": {"distribution": "uniform", "min": 2, "max": 9}})
    r = client.post("/api/sweeps", json=body)
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "parameters.model.layers.0.units" and "whole number" in r.text
    r = client.post("/api/sweeps", json=sweep_body(parameters={"training.optimizer.momentum": {"values": [0.9]}}))
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "parameters.training.optimizer.momentum"
    assert client.get("/api/jobs").json()["total"] == 0 and client.get("/api/sweeps").json()["total"] == 0


@pytest.mark.parametrize("change, field", [
    ({"n_trials": "10"}, "n_trials"), ({"n_trials": 101}, "n_trials"), ({"max_parallel": 0}, "max_parallel"),
    ({"method": "bayes"}, "method"), ({"metric": "val_accuracy"}, "metric"),
    ({"parameters": {LR: {"distribution": "log_uniform", "min": 0.1}}}, f"parameters.{LR}.max"),
    ({"parameters": {LR: {"distribution": "cauchy", "min": 0.1, "max": 1}}}, f"parameters.{LR}.distribution"),
])
def test_bad_sweeps_are_422_naming_the_field(client, change, field):
    r = client.post("/api/sweeps", json=sweep_body(**change))
    assert r.status_code == 422, r.text
    assert field in [d["field"] for d in r.json()["detail"]], r.json()


def test_unknown_sweep_is_404(client):
    assert client.get("/api/sweeps/nope").status_code == 404
    assert client.post("/api/sweeps/nope/cancel").status_code == 404


def test_max_parallel_trials_at_a_time_the_rest_wait_in_the_sweep(make_client):
    client = make_client(workers_jobs=3)
    manager = client.app.state.manager
    sweep_id = client.post("/api/sweeps", json=sweep_body(n_trials=5, epochs=6, pace=30, max_parallel=2)).json()["id"]
    most_active, most_admitted = 0, 0
    while (sweep := client.get(f"/api/sweeps/{sweep_id}").json())["status"] == "running":
        active = sum(t["status"] in ACTIVE for t in sweep["trials"])
        # jobs the server holds that have not finished (a finished job's worker may still be exiting)
        admitted = sum(j in manager.live for j in [*manager.admission.running, *manager.admission.queue])
        most_active, most_admitted = max(most_active, active), max(most_admitted, admitted)
        assert active <= 2 and admitted <= 2, sweep["counts"]
        time.sleep(0.02)
    assert most_active == 2 and sweep["counts"] == {"completed": 5}


def test_cancel_stops_the_running_trial_and_the_waiting_ones(client):
    sweep_id = client.post("/api/sweeps", json=sweep_body(n_trials=4, epochs=500, pace=20,
                                                          max_parallel=1)).json()["id"]
    wait_for(lambda: client.get(f"/api/sweeps/{sweep_id}").json()["trials"][0]["status"] == "running")
    sweep = client.post(f"/api/sweeps/{sweep_id}/cancel").json()
    assert sweep["status"] == "cancelled"
    assert [t["status"] for t in sweep["trials"]] == ["cancelled"] * 4
    assert all(t["message"] == "cancelled with the sweep before it started" for t in sweep["trials"][1:])
    assert client.get(f"/api/jobs/{sweep['trials'][1]['job_id']}").status_code == 404   # never queued
    assert client.post(f"/api/sweeps/{sweep_id}/cancel").json()["status"] == "cancelled"  # idempotent


def test_halving_stops_the_trial_worse_than_the_rung(client):
    # trial 0 (lr 0.3) learns fast; trial 1 (lr 1e-4) has a higher train loss at epoch 2 and is stopped there
    body = sweep_body(n_trials=2, epochs=40, pace=20, max_parallel=1, method="grid",
                      parameters={LR: {"values": [0.3, 1e-4]}},
                      early_termination={"name": "halving", "min_epochs": 2, "reduction_factor": 2})
    sweep = finished(client, client.post("/api/sweeps", json=body).json()["id"])
    good, bad = sweep["trials"]
    assert good["status"] == "completed" and good["epoch"] == 40 and not good["stopped_early"]
    assert bad["status"] == "cancelled" and bad["stopped_early"] and bad["epoch"] < 40
    assert bad["message"].startswith("stopped by successive halving at epoch 2: train_loss")
    assert sweep["best"]["index"] == 0


def test_narrowed_proposal_is_a_sweep_the_server_takes(client):
    sweep = finished(client, client.post("/api/sweeps", json=sweep_body()).json()["id"])
    proposal = client.get(f"/api/sweeps/{sweep['id']}/narrowed").json()["sweep"]
    best_lr = sweep["best"]["params"][LR]
    lo, hi = proposal["parameters"][LR]["min"], proposal["parameters"][LR]["max"]
    assert 1e-3 <= lo <= best_lr <= hi <= 1e-1 and hi / lo == pytest.approx(10 ** 1.0, rel=0.01)
    assert client.post("/api/sweeps", json=proposal).status_code == 201


def test_a_sweep_survives_a_restart(tmp_path):
    from server.main import create_app
    from server.settings import Settings

    def app():
        return TestClient(create_app(Settings(home=tmp_path / "home", workers_jobs=2, checkpoint_seconds=0.0,
                                              allowed_hosts=["testserver"])))

    with app() as client:
        sweep_id = client.post("/api/sweeps", json=sweep_body(n_trials=3, epochs=200, pace=20,
                                                              max_parallel=1)).json()["id"]
        wait_for(lambda: client.get(f"/api/sweeps/{sweep_id}").json()["trials"][0]["epoch"] >= 1)
    with app() as client:
        sweep = client.get(f"/api/sweeps/{sweep_id}").json()
        assert sweep["trials"][0]["status"] == "interrupted" and sweep["status"] == "running"
        # resumed: the next waiting trial starts (trial 0's job ended with the old server)
        wait_for(lambda: client.get(f"/api/sweeps/{sweep_id}").json()["trials"][1]["status"] == "running")
        sweep = client.post(f"/api/sweeps/{sweep_id}/cancel").json()
        assert [t["status"] for t in sweep["trials"]] == ["interrupted", "cancelled", "cancelled"]
        assert client.get(f"/api/jobs/{sweep['trials'][1]['job_id']}").status_code == 200
        assert client.get(f"/api/jobs/{sweep['trials'][2]['job_id']}").status_code == 404


def test_a_full_server_queue_keeps_the_trial_waiting_in_the_sweep_until_there_is_room(make_client):
    client = make_client(workers_jobs=1, max_queued_jobs=0)
    blocker = client.post("/api/jobs", json=tiny_spec(epochs=500) | {"stream": {"max_epochs_per_second": 20}}).json()
    assert client.post("/api/jobs", json=tiny_spec()).status_code == 429   # the server is full
    sweep_id = client.post("/api/sweeps", json=sweep_body(n_trials=2, max_parallel=1)).json()["id"]
    wait_for(lambda: client.get(f"/api/jobs/{blocker['id']}").json()["epoch"] >= 2)
    sweep = client.get(f"/api/sweeps/{sweep_id}").json()
    assert [t["status"] for t in sweep["trials"]] == ["waiting", "waiting"]   # the 429 did not fail them
    client.post(f"/api/jobs/{blocker['id']}/cancel")
    assert finished(client, sweep_id)["counts"] == {"completed": 2}
