"""Dataset previews, shipped test digits, and end-of-training evaluation (confusion matrix, misread)."""
from __future__ import annotations

import base64

import numpy as np
import pytest

import engine
from server_support import tiny_spec
from test_api import run_job


def test_preview_returns_the_same_points_training_uses(client):
    spec = {"name": "spiral", "n_samples": 200, "noise": 0.1, "seed": 3, "n_classes": 3}
    r = client.post("/api/datasets/preview", json={"dataset": spec})
    assert r.status_code == 200, r.text
    body = r.json()
    ds = engine.load_dataset(engine.normalize({"dataset": spec, "model": {
        "layers": [{"type": "dense", "units": 3, "activation": "softmax"}], "loss": "categorical_crossentropy"}})["dataset"])
    np.testing.assert_allclose(body["points_train"], ds.points_train, rtol=1e-6)
    assert body["labels_train"] == ds.y_train.astype(float).tolist()
    assert len(body["points_train"]) + len(body["points_test"]) == 200
    assert body["n_classes"] == 3 and body["domain"] == [[-6.0, 6.0], [-6.0, 6.0]]


@pytest.mark.parametrize("dataset,words", [
    ({"name": "mnist"}, "not a 2-D dataset"),
    ({"name": "spiral", "n_samples": 10**7}, "dataset.n_samples"),
    ({"name": "mnist", "path": "/etc"}, "cannot be set"),
    ({"name": "nope"}, "spiral"),
])
def test_preview_refuses_what_it_cannot_draw_with_a_clear_message(client, dataset, words):
    r = client.post("/api/datasets/preview", json={"dataset": dataset})
    assert r.status_code == 422
    assert words in r.text


def test_digit_sample_is_a_real_mnist_test_image(client):
    r = client.get("/api/digits/sample", params={"index": 0})
    assert r.status_code == 200
    body = r.json()
    pixels = np.frombuffer(base64.b64decode(body["image"]), np.uint8)
    assert body["label"] == 7 and pixels.size == 784 and pixels.max() == 255  # t10k #0 is a 7
    assert client.get("/api/digits/sample", params={"index": 5000}).status_code == 422
    assert 0 <= client.get("/api/digits/sample").json()["index"] < 1000


def test_evaluation_gives_a_confusion_matrix_that_matches_the_accuracy(client):
    job = run_job(client, tiny_spec(epochs=30))
    r = client.get(f"/api/jobs/{job['id']}/evaluation")
    assert r.status_code == 200, r.text
    ev = r.json()
    confusion = np.array(ev["confusion"])
    assert confusion.shape == (2, 2) and confusion.sum() == ev["n"] == 50
    assert np.trace(confusion) / ev["n"] == pytest.approx(ev["accuracy"])
    assert ev["accuracy"] == pytest.approx(job["latest"]["test_accuracy"])
    assert len(ev["misread"]) == ev["n"] - np.trace(confusion)
    probs = [m["probability"] for m in ev["misread"]]
    assert probs == sorted(probs, reverse=True)


def test_evaluation_of_a_regression_job_is_refused(client):
    spec = {"dataset": {"name": "plane", "n_samples": 100},
            "model": {"layers": [{"type": "dense", "units": 1}], "loss": "mean_squared_error"},
            "training": {"epochs": 2}}
    job = run_job(client, spec)
    r = client.get(f"/api/jobs/{job['id']}/evaluation")
    assert r.status_code == 422 and "classification" in r.text
