"""Representations over the API: autoencoder jobs and their /codes, /decode, /reconstructions; fine-tuning
with init_from layers; frozen layers; k-NN jobs; the hidden-space frames."""
from __future__ import annotations

import base64

import numpy as np
import pytest

from test_api import run_job

AE_2D = {"dataset": {"name": "circle", "n_samples": 200, "target": "input", "seed": 1},
         "model": {"layers": [{"type": "dense", "units": 8, "activation": "tanh"},
                              {"type": "dense", "units": 2, "activation": "tanh", "code": True},
                              {"type": "dense", "units": 8, "activation": "tanh"},
                              {"type": "dense", "units": 2}], "loss": "mean_squared_error"},
         "training": {"optimizer": {"name": "adam", "learning_rate": 0.01}, "epochs": 20, "batch_size": 25}}
AE_MNIST = {"dataset": {"name": "mnist", "limit": 200, "flatten": True, "target": "input", "input_noise": 0.2},
            "model": {"layers": [{"type": "dense", "units": 16, "activation": "relu"},
                                 {"type": "dense", "units": 2},
                                 {"type": "dense", "units": 16, "activation": "relu"},
                                 {"type": "dense", "units": 784, "activation": "sigmoid"}],
                      "loss": "binary_crossentropy"},
            "training": {"optimizer": {"name": "adam", "learning_rate": 0.003}, "epochs": 2, "batch_size": 50}}
CLASSIFIER = {"dataset": {"name": "spiral", "n_samples": 100},
              "model": {"layers": [{"type": "dense", "units": 6, "activation": "tanh"},
                                   {"type": "dense", "units": 6, "activation": "tanh"},
                                   {"type": "dense", "units": 2, "activation": "softmax"}],
                        "loss": "categorical_crossentropy"},
              "training": {"optimizer": {"name": "adam", "learning_rate": 0.02}, "epochs": 3, "batch_size": 20}}


def fields(r) -> list[str]:
    return [d["field"] for d in r.json()["detail"]]


def test_an_autoencoder_job_reports_reconstruction_error_and_answers_codes_decode_reconstructions(client):
    job = run_job(client, AE_2D)
    assert job["status"] == "completed" and "test_reconstruction_error" in job["latest"]
    codes = client.get(f"/api/jobs/{job['id']}/codes?limit=30").json()
    assert codes["layer"] == 1 and codes["units"] == 2 and len(codes["codes"]) == 30
    assert codes["labels"] is not None and set(codes["labels"]) <= {0, 1}        # circle's labels colour them
    decoded = client.post(f"/api/jobs/{job['id']}/decode", json={"codes": codes["codes"][:3]}).json()
    rebuilt = client.get(f"/api/jobs/{job['id']}/reconstructions?limit=3").json()
    assert decoded["encoding"] == "numbers" and rebuilt["encoding"] == "numbers"
    # decoding the codes of the first test points gives what the whole network rebuilds from them
    np.testing.assert_allclose(decoded["outputs"], rebuilt["reconstructions"], rtol=1e-5, atol=1e-6)
    err = np.mean((np.array(rebuilt["reconstructions"]) - np.array(rebuilt["originals"])) ** 2, axis=1)
    np.testing.assert_allclose(rebuilt["errors"], err, rtol=1e-5)


def test_an_mnist_autoencoder_decodes_clicks_into_28x28_pictures(client):
    job = run_job(client, AE_MNIST)
    assert job["status"] == "completed", job["message"]
    codes = client.get(f"/api/jobs/{job['id']}/codes?limit=50").json()
    assert codes["units"] == 2 and codes["label_names"][:3] == ["0", "1", "2"] and len(codes["labels"]) == 50
    r = client.post(f"/api/jobs/{job['id']}/decode", json={"codes": [[0.0, 0.0], [1.5, -2.0]]})
    images = r.json()["images"]
    assert r.json()["encoding"] == "uint8" and len(images) == 2
    assert len(base64.b64decode(images[0])) == 784
    rebuilt = client.get(f"/api/jobs/{job['id']}/reconstructions?limit=4").json()
    assert len(rebuilt["originals"]) == len(rebuilt["reconstructions"]) == len(rebuilt["inputs"]) == 4
    assert rebuilt["originals"][0] != rebuilt["inputs"][0]      # input_noise: what the network saw is noisy


@pytest.mark.parametrize("body,field", [
    ({"codes": [[0.0, 0.0, 1.0]]}, "codes"),          # 3 values for a 2-unit code
    ({"codes": [[0.0, 0.0]], "layer": 3}, "layer"),   # the output layer: no decoder follows
    ({"codes": [["a", 0.0]]}, "codes.0.0"),
    ({"codes": []}, "codes"),
])
def test_decode_refuses_bad_codes_with_a_422_naming_the_field(client, body, field):
    job = run_job(client, {**AE_2D, "training": {**AE_2D["training"], "epochs": 1}})
    r = client.post(f"/api/jobs/{job['id']}/decode", json=body)
    assert r.status_code == 422 and fields(r) == [field]


def test_codes_and_reconstructions_refuse_what_the_job_cannot_give(client):
    job = run_job(client, CLASSIFIER)
    assert client.get(f"/api/jobs/{job['id']}/codes?layer=1").json()["units"] == 6   # any layer of a classifier
    r = client.get(f"/api/jobs/{job['id']}/reconstructions")
    assert r.status_code == 422 and "target" in r.json()["message"]
    r = client.get(f"/api/jobs/{job['id']}/codes?limit=1000000")
    assert r.status_code == 422 and fields(r) == ["limit"]
    assert client.get("/api/jobs/nope/codes").status_code == 404


def test_init_from_layers_copies_them_and_a_frozen_layer_stays_bit_identical(client):
    parent = run_job(client, CLASSIFIER)
    spec = {**CLASSIFIER, "model": {**CLASSIFIER["model"], "layers": [
        {**CLASSIFIER["model"]["layers"][0], "trainable": False}, *CLASSIFIER["model"]["layers"][1:]]}}
    child = run_job(client, {**spec, "init_from": {"job_id": parent["id"], "layers": [0]}})
    assert child["status"] == "completed" and child["init_from"] == {"job_id": parent["id"], "layers": [0]}
    w_parent = client.get(f"/api/jobs/{parent['id']}/weights").json()
    w_child = client.get(f"/api/jobs/{child['id']}/weights").json()
    assert w_parent["weights"]["0.W"] == w_child["weights"]["0.W"]
    assert w_parent["weights"]["1.W"] != w_child["weights"]["1.W"]


def test_init_from_layers_of_another_shape_is_a_422_naming_the_listed_layer(client):
    parent = run_job(client, CLASSIFIER)
    spec = {**CLASSIFIER, "model": {**CLASSIFIER["model"], "layers": [
        CLASSIFIER["model"]["layers"][0], {"type": "dense", "units": 3, "activation": "tanh"},
        CLASSIFIER["model"]["layers"][2]]}}
    r = client.post("/api/jobs", json={**spec, "init_from": {"job_id": parent["id"], "layers": [0, 1]}})
    assert r.status_code == 422 and fields(r) == ["init_from.layers.1"]
    assert "layer 1 (dense)" in r.json()["message"]


def test_a_knn_job_predicts_like_any_model_and_refuses_init_from(client):
    job = run_job(client, {"dataset": {"name": "xor", "n_samples": 200}, "model": {"type": "knn", "k": 3, "metric": "l1"}})
    assert job["status"] == "completed" and job["latest"]["test_accuracy"] > 0.8
    r = client.post(f"/api/jobs/{job['id']}/predict", json={"inputs": [[3.0, 3.0], [-3.0, 3.0]]})
    assert r.status_code == 200 and r.json()["labels"][0] != r.json()["labels"][1]
    r = client.post("/api/jobs", json={"dataset": {"name": "xor"}, "model": {"type": "knn", "k": 0}})
    assert r.status_code == 422 and fields(r) == ["model.k"]


def test_the_hidden_space_streams_while_training(client):
    spec = {**CLASSIFIER, "stream": {"hidden_layer": 1, "hidden_units": [0, 3], "max_fps": 1000}}
    r = client.post("/api/jobs", json=spec)
    assert r.status_code == 201, r.text
    frames = []
    with client.websocket_connect(f"/ws/jobs/{r.json()['id']}") as ws:
        while (m := ws.receive_json())["type"] != "done":
            if m["type"] == "hidden_space":
                frames.append(m)
    assert len(frames) >= 2 and frames[-1]["units"] == [0, 3] and frames[-1]["axes"] == "units"
    first, last = (np.frombuffer(base64.b64decode(f["points"]), np.float32) for f in (frames[0], frames[-1]))
    assert first.shape == (2 * frames[0]["n_points"],) and not np.array_equal(first, last)   # it moved
    r = client.post("/api/jobs", json={**spec, "stream": {"hidden_layer": 9}})
    assert r.status_code == 422 and fields(r) == ["stream.hidden_layer"]


def test_the_autoencoder_page_asks_the_engine_for_its_options_and_layers(client):
    options = client.get("/api/models/autoencoder").json()
    assert {p["name"] for p in options["options"]} >= {"encoder", "encoder_sizes", "code_units", "decoder", "loss"}
    assert options["parts"]["conv"]["size_name"] == "filters" and options["parts"]["dense"]["flat_input"] is True
    layout = client.post("/api/models/autoencoder", json={"encoder": "conv", "encoder_sizes": [4],
                                                          "decoder": "conv", "decoder_sizes": [4]})
    assert layout.status_code == 200 and layout.json()["errors"] == []
    assert layout.json()["layers"][-1]["output_shape"] == [784]
    job = client.post("/api/jobs", json={**layout.json()["spec"], "training": {
        **layout.json()["spec"]["training"], "epochs": 1}})
    assert job.status_code == 201, job.text[:300]                  # what the page trains, POST /api/jobs takes
    client.post(f"/api/jobs/{job.json()['id']}/cancel")
    bad = client.post("/api/models/autoencoder", json={"decoder": "conv", "decoder_sizes": [2, 2, 2]}).json()
    assert bad["spec"] is None and bad["errors"][0]["path"] == "options.decoder_sizes"
    assert client.post("/api/models/autoencoder", json="junk").json()["errors"][0]["path"] == "options"
