"""Inputs that used to crash a handler (500 or a socket traceback) are 4xx answers naming the field."""
from __future__ import annotations

import json

import pytest

from server_support import tiny_spec

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def client(tmp_path):
    from fastapi.testclient import TestClient

    from server.main import create_app
    from server.settings import Settings

    settings = Settings(home=tmp_path / "home", workers_jobs=2, checkpoint_seconds=0.0, allowed_hosts=["testserver"])
    with TestClient(create_app(settings), raise_server_exceptions=False) as quiet:  # a crash is a 500, not a raise
        yield quiet


def finish(client, job_id: str) -> None:
    with client.websocket_connect(f"/ws/jobs/{job_id}") as ws:
        while ws.receive_json()["type"] not in ("done", "error"):
            pass


def test_a_huge_list_offset_is_a_422_naming_offset(client):
    r = client.get("/api/jobs", params={"offset": 2**63})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "offset"


@pytest.mark.parametrize("where", ["training", "dataset"])
def test_a_seed_of_400_digits_is_a_422_naming_the_seed(client, where):
    spec = tiny_spec()
    spec[where]["seed"] = int("9" * 400)
    r = client.post("/api/jobs", content=json.dumps(spec), headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == f"{where}.seed"


def test_predict_whose_outputs_overflow_is_a_422_saying_they_are_not_finite(client):
    # a float32 model: 1e10 * 1e30 * 2 = 2e40 passes float32's 3.4e38 and becomes inf
    spec = {"dataset": {"name": "plane", "n_samples": 50},
            "model": {"layers": [{"type": "dense", "units": 1, "weights": {"W": [[1e10], [1e10]], "b": [0.0]}}],
                      "loss": "mean_squared_error"},
            "training": {"epochs": 1, "optimizer": {"name": "sgd", "learning_rate": 1e-30}}}
    job_id = client.post("/api/jobs", json=spec).json()["id"]
    finish(client, job_id)
    r = client.post(f"/api/jobs/{job_id}/predict", json={"inputs": [[0.0, 0.0], [1e30, 1e30]]})
    assert r.status_code == 422
    assert r.json()["message"].startswith("outputs: ") and "not finite for input rows [1]" in r.json()["message"]
    assert client.post(f"/api/jobs/{job_id}/predict", json={"inputs": [[0.0, 0.0]]}).status_code == 200


@pytest.mark.parametrize("since", [str(10**30), "abc", "1.5", "-1", "٣"])
def test_a_bad_since_on_the_socket_is_answered_and_closed_with_4400(client, since):
    from starlette.websockets import WebSocketDisconnect

    job_id = client.post("/api/jobs", json=tiny_spec(epochs=1)).json()["id"]
    with client.websocket_connect(f"/ws/jobs/{job_id}?since={since}") as ws:
        error = ws.receive_json()
        assert error["type"] == "error" and error["fields"] == ["since"] and error["message"].startswith("since: ")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4400


def test_binary_frames_on_the_socket_are_refused_and_the_socket_stays_usable(client):
    job_id = client.post("/api/jobs", json=tiny_spec(epochs=100_000)).json()["id"]
    with client.websocket_connect(f"/ws/jobs/{job_id}") as ws:
        ws.send_bytes(b"\x00\xff{\"cmd\": \"pause\"}")
        while (message := ws.receive_json())["type"] != "error":
            pass
        assert message["recoverable"] and "binary" in message["message"]
        ws.send_text("{not json")
        while (message := ws.receive_json())["type"] != "error":
            pass
        assert "JSON" in message["message"]
        ws.send_json({"cmd": "cancel"})  # still listening
        while ws.receive_json()["type"] != "done":
            pass
    assert client.get(f"/api/jobs/{job_id}").json()["status"] == "cancelled"


def test_a_405_lists_every_method_the_path_serves(client):
    r = client.put("/api/jobs/abc")
    assert r.status_code == 405 and r.headers["allow"] == "DELETE, GET, PATCH"
    assert client.put("/api/jobs").headers["allow"] == "GET, POST"
