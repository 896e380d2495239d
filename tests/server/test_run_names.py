"""Runs have readable names (engine.naming, one home) and can be renamed with PATCH /api/jobs/{id}."""
from __future__ import annotations

from server_support import tiny_spec


def test_a_new_job_carries_its_generated_name(client):
    job = client.post("/api/jobs", json=tiny_spec(epochs=1)).json()
    assert job["name"] == "xor · 4 tanh · adam 0.05" and job["renamed"] is False
    listed = client.get("/api/jobs").json()["items"][0]
    assert listed["name"] == job["name"]


def test_a_rename_is_kept_and_null_restores_the_generated_name(client):
    job_id = client.post("/api/jobs", json=tiny_spec(epochs=1)).json()["id"]
    renamed = client.patch(f"/api/jobs/{job_id}", json={"name": "  the good one  "})
    assert renamed.status_code == 200 and renamed.json()["name"] == "the good one" and renamed.json()["renamed"]
    assert client.get(f"/api/jobs/{job_id}").json()["name"] == "the good one"
    back = client.patch(f"/api/jobs/{job_id}", json={"name": None}).json()
    assert back["name"] == "xor · 4 tanh · adam 0.05" and back["renamed"] is False


def test_a_rename_is_refused_for_a_long_name_an_extra_field_or_an_unknown_job(client):
    job_id = client.post("/api/jobs", json=tiny_spec(epochs=1)).json()["id"]
    too_long = client.patch(f"/api/jobs/{job_id}", json={"name": "x" * 81})
    assert too_long.status_code == 422 and too_long.json()["detail"][0]["field"] == "name"
    assert client.patch(f"/api/jobs/{job_id}", json={"name": "a", "status": "completed"}).status_code == 422
    assert client.patch("/api/jobs/nope", json={"name": "a"}).status_code == 404
