"""Recurrent jobs over the API: they stream time_gradients like any frame, and POST /api/jobs/{id}/generate
samples text from a character model (422s naming the field)."""
from __future__ import annotations

import pytest

from server_support import tiny_spec

TEXT = "the cat sat on the mat. " * 40


def char_spec(epochs: int = 2) -> dict:
    return {"dataset": {"name": "text", "text": TEXT, "seq_len": 8, "n_samples": 200},
            "model": {"layers": [{"type": "lstm", "units": 16},
                                 {"type": "dense", "units": None, "activation": "softmax"}],
                      "loss": "categorical_crossentropy"},
            "training": {"epochs": epochs, "batch_size": 50, "optimizer": {"name": "adam", "learning_rate": 0.02}},
            "stream": {"max_fps": 100}}


def watch(client, job_id: str) -> list[dict]:
    messages = []
    with client.websocket_connect(f"/ws/jobs/{job_id}") as ws:
        while True:
            messages.append(ws.receive_json())
            if messages[-1]["type"] in ("done", "error"):
                return messages


@pytest.fixture
def char_job(client):
    r = client.post("/api/jobs", json=char_spec())
    assert r.status_code == 201, r.text
    job = r.json()
    return job, watch(client, job["id"])


def test_a_char_model_job_resolves_its_vocabulary_and_streams_time_gradients(char_job):
    job, messages = char_job
    assert job["spec"]["model"]["layers"][1]["units"] == len(set(TEXT))     # null -> the vocabulary's size
    frames = [m for m in messages if m["type"] == "time_gradients"]
    assert frames and frames[-1]["layers"][0]["type"] == "lstm" and len(frames[-1]["layers"][0]["norms"]) == 8
    assert messages[-1]["status"] == "completed"


def test_generate_samples_text_from_the_vocabulary_and_repeats_with_the_seed(client, char_job):
    job, _ = char_job
    body = {"prompt": "the ", "length": 50, "temperature": 0.8, "seed": 3}
    r = client.post(f"/api/jobs/{job['id']}/generate", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert len(out["text"]) == 50 and set(out["text"]) <= set(TEXT)
    assert out["prompt"] == "the " and out["epoch"] == 2 and out["seed"] == 3
    assert client.post(f"/api/jobs/{job['id']}/generate", json=body).json()["text"] == out["text"]
    other = client.post(f"/api/jobs/{job['id']}/generate", json={**body, "seed": 4}).json()["text"]
    assert other != out["text"]


@pytest.mark.parametrize("body, field, words", [
    ({"prompt": "the dog"}, "prompt", "'dg'"),
    ({"prompt": ""}, "prompt", "at least one"),
    ({"length": 10**6}, "length", "2000"),
    ({"temperature": 0}, "temperature", "greater than 0"),
    ({"seed": -1}, "seed", "greater than or equal to 0"),
])
def test_generate_refuses_bad_requests_naming_the_field(client, char_job, body, field, words):
    job, _ = char_job
    r = client.post(f"/api/jobs/{job['id']}/generate", json=body)
    assert r.status_code == 422, r.text
    assert field in r.text and words in r.text


def test_generate_needs_a_character_model_and_an_existing_job(client):
    r = client.post("/api/jobs", json=tiny_spec(epochs=1))
    watch(client, r.json()["id"])
    refused = client.post(f"/api/jobs/{r.json()['id']}/generate", json={"prompt": "a"})
    assert refused.status_code == 422 and "job_id" in refused.text and "text dataset" in refused.text
    assert client.post("/api/jobs/nope/generate", json={"prompt": "a"}).status_code == 404
