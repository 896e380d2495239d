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


def test_sequences_route_shows_test_windows_with_the_models_next_character(client, char_job):
    job, _ = char_job
    body = client.get(f"/api/jobs/{job['id']}/sequences?count=3").json()
    assert body["task"] == "classification" and body["dataset"] == "text" and len(body["examples"]) == 3
    row = body["examples"][0]
    assert isinstance(row["inputs"], str) and len(row["inputs"]) == 8 and row["inputs"] in TEXT
    assert len(row["prediction"]) == 1 and 0 < row["probability"] <= 1


def test_sequences_route_marks_the_memory_bit_and_refuses_other_datasets(client):
    spec = {"dataset": {"name": "memory", "seq_len": 10, "n_samples": 100},
            "model": {"layers": [{"type": "lstm", "units": 4},
                                 {"type": "dense", "units": None, "activation": "softmax"}],
                      "loss": "categorical_crossentropy"}, "training": {"epochs": 1}}
    job = client.post("/api/jobs", json=spec).json()
    watch(client, job["id"])
    rows = client.get(f"/api/jobs/{job['id']}/sequences").json()["examples"]
    assert len(rows) == 8
    for row in rows:
        assert row["inputs"][row["marked_step"]] in (-1.0, 1.0) and row["target"] == int(row["inputs"][row["marked_step"]] > 0)
        assert row["correct"] == (row["prediction"] == row["target"])
    other = client.post("/api/jobs", json=tiny_spec(epochs=1)).json()
    watch(client, other["id"])
    r = client.get(f"/api/jobs/{other['id']}/sequences")
    assert r.status_code == 422 and "sequence dataset" in r.text
