"""The REST surface through TestClient (the app runs real worker processes)."""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest

import engine
from engine.control import COMMANDS
from engine.optimizers import LR
from server_support import tiny_spec


def watch(client, job_id: str, since: int = 0) -> list[dict]:
    """Every message of the job's socket until it closes (ends with `done`)."""
    messages = []
    with client.websocket_connect(f"/ws/jobs/{job_id}?since={since}") as ws:
        while True:
            messages.append(ws.receive_json())
            if messages[-1]["type"] in ("done", "error"):
                return messages


def run_job(client, spec) -> dict:
    r = client.post("/api/jobs", json=spec)
    assert r.status_code == 201, r.text
    watch(client, r.json()["id"])
    return client.get(f"/api/jobs/{r.json()['id']}").json()


def test_health_reports_ok_version_and_the_executor_in_use(client):
    assert client.get("/api/health").json() == {"status": "ok", "version": "0.1.0", "executor": "local"}


def test_health_reports_the_thread_executor_when_settings_choose_it(tmp_path):
    from fastapi.testclient import TestClient

    from server.main import create_app
    from server.settings import Settings

    app = create_app(Settings(home=tmp_path / "home", executor="thread", allowed_hosts=["testserver"]))
    with TestClient(app) as c:
        assert c.get("/api/health").json()["executor"] == "thread"


def test_catalog_lists_every_registry_name_and_the_server_limits(client):
    body = client.get("/api/catalog").json()
    assert set(body["layers"]) == set(engine.LAYERS.names())
    assert set(body["activations"]) == set(engine.ACTIVATIONS.names())
    assert set(body["optimizers"]) == set(engine.OPTIMIZERS.names())
    for key in ("max_units", "max_params", "max_epochs", "max_body_bytes", "max_image_side", "max_queued_jobs"):
        assert key in body["limits"]
    assert "interrupted" in body["job_states"]


def test_job_life_cycle_over_rest(client):
    job = run_job(client, tiny_spec(epochs=4))
    assert job["status"] == "completed" and job["epoch"] == 4 and job["progress"] == 1.0
    assert job["latest"]["epoch"] == 4 and job["best"] is not None and job["has_model"]
    assert job["spec"]["training"]["optimizer"]["name"] == "adam"  # normalized: defaults filled in
    assert job["summary"][0]["type"] == "dense" and job["n_params"] == 4 * 2 + 4 + 4 * 2 + 2
    history = client.get(f"/api/jobs/{job['id']}/history").json()["epochs"]
    assert [r["epoch"] for r in history] == [1, 2, 3, 4]
    csv_text = client.get(f"/api/jobs/{job['id']}/history?format=csv").text.splitlines()
    assert csv_text[0].startswith("epoch,") and len(csv_text) == 5
    model_bytes = client.get(f"/api/jobs/{job['id']}/model").content
    assert model_bytes[:2] == b"PK"  # an .npz (zip)
    weights = client.get(f"/api/jobs/{job['id']}/weights").json()
    assert weights["shapes"]["0.W"] == [2, 4] and np.shape(weights["weights"]["0.W"]) == (2, 4)


def test_predict_gives_outputs_probabilities_and_labels(client):
    job = run_job(client, tiny_spec(epochs=2))
    r = client.post(f"/api/jobs/{job['id']}/predict", json={"inputs": [[1.0, 1.0], [-2.0, 3.0], [0, 0]]})
    body = r.json()
    assert r.status_code == 200 and len(body["outputs"]) == 3
    assert np.allclose(np.sum(body["probabilities"], axis=1), 1, atol=1e-5)
    assert body["labels"] == np.argmax(body["probabilities"], axis=1).tolist()
    bad = client.post(f"/api/jobs/{job['id']}/predict", json={"inputs": [[1.0, 2.0, 3.0]]})
    assert bad.status_code == 422 and "shape [2]" in bad.json()["message"]


def test_a_server_with_raised_limits_trains_the_job_it_accepted(make_client):
    spec = tiny_spec(epochs=2)
    spec["model"]["layers"] = [{"type": "dense", "units": 2, "activation": "tanh"}] * 33 + [
        {"type": "dense", "units": 2, "activation": "softmax"}]
    assert [p.path for p in engine.validate(spec)] == ["model.layers"]  # above the default 32 layers
    client = make_client(engine_overrides={"max_layers": 40})
    job = run_job(client, spec)  # the worker trains the stored spec; it does not re-check default limits
    assert job["status"] == "completed" and job["epoch"] == 2, job["message"]


def test_list_jobs_pages_and_filters_by_status(client):
    ids = [run_job(client, tiny_spec(epochs=1))["id"] for _ in range(3)]
    page = client.get("/api/jobs?limit=2&offset=0").json()
    assert page["total"] == 3 and [j["id"] for j in page["items"]] == ids[::-1][:2]
    assert client.get("/api/jobs?status=failed").json()["total"] == 0
    assert client.get("/api/jobs?status=bogus").status_code == 422


def test_cancel_is_idempotent_and_delete_removes_job_and_model(client):
    job = run_job(client, tiny_spec(epochs=1))
    assert client.post(f"/api/jobs/{job['id']}/cancel").json()["status"] == "completed"  # already final
    assert client.delete(f"/api/jobs/{job['id']}").status_code == 204
    assert client.get(f"/api/jobs/{job['id']}").status_code == 404
    assert client.get(f"/api/jobs/{job['id']}/model").status_code == 404


def test_cancel_while_queued_never_starts_the_job(make_client):
    client = make_client(workers_jobs=1)
    first = client.post("/api/jobs", json=tiny_spec(epochs=100_000)).json()
    queued = client.post("/api/jobs", json=tiny_spec(epochs=1)).json()
    assert queued["status"] == "queued" and queued["queue_position"] == 1
    cancelled = client.post(f"/api/jobs/{queued['id']}/cancel").json()
    assert cancelled["status"] == "cancelled" and cancelled["started_at"] is None
    assert client.post(f"/api/jobs/{first['id']}/cancel").json()["status"] == "cancelled"


def test_queue_limit_refuses_more_jobs_with_429(make_client):
    client = make_client(workers_jobs=1, max_queued_jobs=1)
    first = client.post("/api/jobs", json=tiny_spec(epochs=100_000)).json()
    assert client.post("/api/jobs", json=tiny_spec()).status_code == 201
    r = client.post("/api/jobs", json=tiny_spec())
    assert r.status_code == 429 and "max_queued_jobs" in r.json()["message"]
    client.post(f"/api/jobs/{first['id']}/cancel")


def test_weights_refused_above_the_parameter_limit(make_client):
    client = make_client(max_weights_params=10)
    job = run_job(client, tiny_spec(epochs=1))
    r = client.get(f"/api/jobs/{job['id']}/weights")
    assert r.status_code == 413 and "max_weights_params" in r.json()["message"]


def test_api_token_guards_mutations_but_not_reads(make_client):
    client = make_client(api_token="s3cret")
    assert client.get("/api/jobs").status_code == 200
    r = client.post("/api/jobs", json=tiny_spec())
    assert r.status_code == 401 and "Bearer" in r.json()["message"]
    ok = client.post("/api/jobs", json=tiny_spec(epochs=1), headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 201
    assert client.delete(f"/api/jobs/{ok.json()['id']}").status_code == 401


def test_socket_replays_only_epochs_after_since_for_a_finished_job(client):
    job = run_job(client, tiny_spec(epochs=5))
    messages = watch(client, job["id"], since=3)
    assert messages[0]["type"] == "status" and messages[0]["status"] == "completed"
    assert [m["epoch"] for m in messages if m["type"] == "epoch"] == [4, 5]
    assert messages[-1] == {"type": "done", "status": "completed", "outcome": "completed",
                            "message": job["message"]}


def test_live_socket_gets_frames_every_epoch_once_and_done(client):
    r = client.post("/api/jobs", json=tiny_spec(epochs=6))
    messages = watch(client, r.json()["id"])
    epochs = [m["epoch"] for m in messages if m["type"] == "epoch"]
    assert epochs == [1, 2, 3, 4, 5, 6]
    kinds = {m["type"] for m in messages}
    assert {"status", "boundary", "histograms", "gradients", "done"} <= kinds


def test_openapi_documents_every_endpoint_with_models(client):
    schema = client.get("/openapi.json").json()
    for path in ("/api/jobs", "/api/jobs/{job_id}", "/api/jobs/{job_id}/predict", "/api/digits/predict",
                 "/api/catalog", "/api/health", "/api/jobs/{job_id}/history", "/api/jobs/{job_id}/weights"):
        assert path in schema["paths"], path
    create = schema["paths"]["/api/jobs"]["post"]
    assert "JobCreate" in str(create["requestBody"]) and "JobPublic" in str(create["responses"]["201"])
    components = schema["components"]["schemas"].values()
    layer_types = {c["properties"]["type"].get("const") for c in components if "type" in c.get("properties", {})}
    assert set(engine.LAYERS.names()) <= layer_types
    commands = schema["paths"]["/api/jobs/{job_id}/commands"]["post"]["requestBody"]["content"]["application/json"]
    documented = {c["properties"]["cmd"]["const"]: c for c in commands["schema"]["oneOf"]}
    assert set(documented) == set(COMMANDS.names())
    assert documented["set"]["properties"]["learning_rate"]["maximum"] == LR.max  # the engine's one range


def png_data_url(array: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@pytest.fixture
def digit_model(monkeypatch):
    """A tiny stand-in for the shipped digit model (the real one may not be trained yet)."""
    import server.modelcache as cache

    model = engine.build_model({"input_shape": [784], "layers": [{"type": "dense", "units": 10,
                                "activation": "softmax"}], "loss": "categorical_crossentropy"}, seed=0)
    monkeypatch.setattr(cache, "_default", model)
    return model


def test_digit_predict_reads_a_png_and_strokes(client, digit_model):
    canvas = np.full((120, 120), 255, np.uint8)
    canvas[20:100, 55:65] = 0  # a black "1" on white
    for body in ({"image": png_data_url(canvas)}, {"strokes": [[[60, 20], [60, 100]]]}):
        r = client.post("/api/digits/predict", json=body)
        assert r.status_code == 200, r.text
        out = r.json()
        assert len(out["probabilities"]) == 10 and abs(sum(out["probabilities"]) - 1) < 1e-4
        assert np.shape(out["input"]) == (28, 28) and out["model"] == "default"


def test_digit_predict_refuses_empty_drawings_and_non_digit_jobs(client, digit_model):
    blank = client.post("/api/digits/predict", json={"image": png_data_url(np.full((50, 50), 255, np.uint8))})
    assert blank.status_code == 422 and "empty" in blank.json()["message"]
    job = run_job(client, tiny_spec(epochs=1))
    r = client.post("/api/digits/predict", json={"strokes": [[[1, 1], [20, 20]]], "job_id": job["id"]})
    assert r.status_code == 422 and "'xor'" in r.json()["message"]
