"""Damaged model files (empty, truncated, random bytes, an oversized declared network) answer 422 "model
file is damaged" (or the limit refused) through every route that loads one, never a 500."""
from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest

import engine

XOR_MODEL = {"input_shape": [2], "layers": [{"type": "dense", "units": 4, "activation": "tanh"},
                                            {"type": "dense", "units": 2, "activation": "softmax"}],
             "loss": "categorical_crossentropy"}
DIGIT_MODEL = {"input_shape": [1, 28, 28], "layers": [{"type": "flatten"},
                                                      {"type": "dense", "units": 10, "activation": "softmax"}],
               "loss": "categorical_crossentropy"}


def model_bytes(spec: dict) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.npz"
        engine.build_model(spec, seed=0).save(path)
        return path.read_bytes()


def oversized_bytes(spec: dict) -> bytes:
    """A file whose meta declares a 50M-parameter network (and holds no arrays for it)."""
    big = {**spec, "layers": [*spec["layers"][:-1], {"type": "dense", "units": 4096},
                              {"type": "dense", "units": 4096}, spec["layers"][-1]]}
    meta = {"format": "nnplay-model", "version": 1, "spec": big, "pipeline": None}
    buf = io.BytesIO()
    np.savez(buf, meta_json=np.array(json.dumps(meta)))
    return buf.getvalue()


def damaged(kind: str, spec: dict) -> bytes:
    good = model_bytes(spec)
    return {"empty": b"", "truncated": good[: len(good) // 2], "truncated_end": good[:-30],
            "random": np.random.default_rng(0).bytes(4000), "oversized": oversized_bytes(spec)}[kind]


KINDS = ["empty", "truncated", "truncated_end", "random", "oversized"]


def job_with_file(client, content: bytes, dataset: str) -> str:
    """A finished job whose model file holds `content`."""
    manager = client.app.state.manager
    job = manager.storage.create_job({"dataset": {"name": dataset}, "model": {}, "training": {}}, 1)
    path = Path(manager.model_path(job["id"]))
    path.write_bytes(content)
    manager.storage.update_job(job["id"], status="completed", model_path=str(path))
    return job["id"]


def assert_refused(res, kind: str) -> None:
    assert res.status_code in (410, 422), res.text
    message = res.json()["message"]
    if kind == "oversized":
        assert "parameters; the limit is 5,000,000" in message and "model file" in message
    else:
        assert "model file is damaged" in message


@pytest.mark.parametrize("kind", KINDS)
def test_predict_and_weights_refuse_a_damaged_model_file(client, kind):
    job_id = job_with_file(client, damaged(kind, XOR_MODEL), "xor")
    assert_refused(client.post(f"/api/jobs/{job_id}/predict", json={"inputs": [[0.0, 1.0]]}), kind)
    assert_refused(client.get(f"/api/jobs/{job_id}/weights"), kind)


@pytest.mark.parametrize("kind", KINDS)
def test_digit_reader_refuses_a_damaged_job_model_file(client, kind):
    job_id = job_with_file(client, damaged(kind, DIGIT_MODEL), "mnist")
    res = client.post("/api/digits/predict", json={"strokes": [[[0, 0], [20, 20]]], "job_id": job_id})
    assert_refused(res, kind)


def test_a_good_file_still_loads_through_the_same_routes(client):
    job_id = job_with_file(client, model_bytes(XOR_MODEL), "xor")
    assert client.post(f"/api/jobs/{job_id}/predict", json={"inputs": [[0.0, 1.0]]}).status_code == 200
    assert client.get(f"/api/jobs/{job_id}/weights").json()["n_params"] == 22


def test_a_server_with_raised_limits_loads_what_it_trains(make_client):
    client = make_client(engine_overrides={"max_params": 60_000_000})
    job_id = job_with_file(client, damaged("oversized", XOR_MODEL), "xor")
    # past the limit check, the file is missing its arrays: damaged, not refused for its size
    res = client.post(f"/api/jobs/{job_id}/predict", json={"inputs": [[0.0, 1.0]]})
    assert res.status_code == 422 and "model file is damaged" in res.json()["message"]
