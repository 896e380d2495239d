"""GET /api/digits/first-layer: the chosen digit model's first layer as pictures."""
from __future__ import annotations

import base64
from pathlib import Path

import pytest

from server_support import tiny_spec
from test_api import run_job

SHIPPED = Path(__file__).resolve().parents[2] / "engine" / "assets" / "digit_model.npz"


@pytest.mark.skipif(not SHIPPED.exists(), reason="the shipped digit model is absent")
def test_the_shipped_models_conv_filters_come_as_3x3_pictures(client):
    r = client.get("/api/digits/first-layer")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["type"], body["layer"], body["height"], body["width"]) == ("conv2d", 0, 3, 3)
    assert body["count"] == len(body["images"]) == 16
    assert all(len(base64.b64decode(i)) == 9 for i in body["images"])


def test_a_job_that_is_not_a_digit_model_is_refused_with_its_reason(client):
    job = run_job(client, tiny_spec(epochs=1))
    r = client.get("/api/digits/first-layer", params={"job_id": job["id"]})
    assert r.status_code == 422 and "not a digit dataset" in r.json()["message"]
