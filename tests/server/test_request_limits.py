"""Each request limit that bounds the cost of the worst allowed request (benchmarks/body_latency.py measures
that cost) is enforced with a 4xx naming the field and the limit; a job's answers summarise big inline data."""
from __future__ import annotations

import json

import numpy as np

from engine.datasets.inline import ECHO_VALUES
from engine.limits import DEFAULT_LIMITS
from server.settings import Settings


def inline_job(rows: int, cols: int) -> dict:
    rng = np.random.default_rng(0)
    return {"dataset": {"name": "inline", "x": rng.uniform(-1, 1, (rows, cols)).round(3).tolist(),
                        "y": rng.integers(0, 2, rows).tolist()},
            "model": {"layers": [{"type": "dense", "units": 2, "activation": "softmax"}],
                      "loss": "categorical_crossentropy"},
            "training": {"epochs": 1, "batch_size": 100}, "paused": True}


def test_inline_data_over_max_inline_values_is_a_422_naming_dataset_x(client):
    rows = DEFAULT_LIMITS.max_inline_points
    over = inline_job(rows, DEFAULT_LIMITS.max_inline_values // rows + 1)
    res = client.post("/api/jobs", json=over)
    assert res.status_code == 422, res.text
    assert res.json()["detail"][0]["field"] == "dataset.x"
    assert f"at most {DEFAULT_LIMITS.max_inline_values}" in res.json()["message"]
    assert client.get("/api/catalog").json()["limits"]["max_inline_values"] == DEFAULT_LIMITS.max_inline_values


def test_a_job_at_max_inline_values_fits_under_the_body_limit_and_is_accepted(client):
    rows = DEFAULT_LIMITS.max_inline_points
    at_limit = inline_job(rows, DEFAULT_LIMITS.max_inline_values // rows)
    body = json.dumps(at_limit).encode()
    assert len(body) < Settings().max_body_bytes   # the limits agree: the largest valid inline job can be sent
    res = client.post("/api/jobs", content=body, headers={"content-type": "application/json"})
    assert res.status_code == 201, res.text[:300]
    client.post(f"/api/jobs/{res.json()['id']}/cancel")


def test_a_body_one_byte_over_max_body_bytes_is_a_413_naming_the_limit(client):
    limit = Settings().max_body_bytes
    head, tail = b'{"dataset": {"name": "xor"}, "pad": "', b'"}'
    body = head + b"x" * (limit + 1 - len(head) - len(tail)) + tail
    assert len(body) == limit + 1
    res = client.post("/api/jobs", content=body, headers={"content-type": "application/json"})
    assert res.status_code == 413 and f"max_body_bytes = {limit}" in res.json()["message"]


def test_a_drawing_of_more_than_max_strokes_strokes_is_a_422_naming_strokes(client):
    n = DEFAULT_LIMITS.max_strokes + 1
    res = client.post("/api/digits/predict", json={"strokes": [[[i, i]] for i in range(n)]})
    assert res.status_code == 422, res.text
    assert f"strokes: at most {DEFAULT_LIMITS.max_strokes} strokes" in res.json()["message"]
    assert client.get("/api/catalog").json()["limits"]["max_strokes"] == DEFAULT_LIMITS.max_strokes


def test_the_costliest_drawing_the_stroke_limits_allow_is_still_read(client):
    """max_strokes - 1 scattered dots and one stroke using all the pen travel and points (10 s of work for
    10,000 dots before the rasterizer drew each chunk of segments only where they lie)."""
    rng = np.random.default_rng(2)
    dots = [[p] for p in rng.uniform(0, 500, (DEFAULT_LIMITS.max_strokes - 1, 2)).round(1).tolist()]
    jumps = int(DEFAULT_LIMITS.max_pen_travel / 2 ** 0.5) - 1
    zigzag = [[0, 0], [500, 500]] * (jumps // 2)
    zigzag += [[i * 0.001, 0] for i in range(DEFAULT_LIMITS.max_stroke_points - len(dots) - len(zigzag))]
    res = client.post("/api/digits/predict", json={"strokes": dots + [zigzag]})
    assert res.status_code == 200, res.text[:300]


def test_a_jobs_answers_summarise_big_inline_data_and_the_spec_route_gives_it_whole(client):
    rows, cols = 1000, ECHO_VALUES // 1000 + 1          # more than ECHO_VALUES numbers in x
    spec = inline_job(rows, cols)
    created = client.post("/api/jobs", json=spec)
    assert created.status_code == 201, created.text[:300]
    job_id = created.json()["id"]
    for answer in (created.json(), client.get(f"/api/jobs/{job_id}").json(),
                   client.get("/api/jobs").json()["items"][0], client.post(f"/api/jobs/{job_id}/cancel").json()):
        dataset = answer["spec"]["dataset"]
        assert dataset["x"] == {"omitted": True, "rows": rows, "values": rows * cols}
        assert dataset["y"] == {"omitted": True, "rows": rows, "values": rows}
    whole = client.get(f"/api/jobs/{job_id}/spec")
    assert whole.status_code == 200
    assert np.allclose(whole.json()["dataset"]["x"], spec["dataset"]["x"])
    assert whole.json()["dataset"]["y"] == spec["dataset"]["y"]


def test_painted_points_come_back_whole_in_a_jobs_answer(client):
    spec = inline_job(200, 2)
    res = client.post("/api/jobs", json=spec)
    assert res.status_code == 201
    assert np.allclose(res.json()["spec"]["dataset"]["x"], spec["dataset"]["x"])
    client.post(f"/api/jobs/{res.json()['id']}/cancel")
