"""The README's worked example through POST /api/jobs: the published weights after one backprop step."""
import json
from pathlib import Path

import numpy as np

SPEC = json.loads((Path(__file__).resolve().parents[2] / "examples" / "backprop_222.json").read_text())


def test_worked_example_job_gives_the_published_weights(client):
    r = client.post("/api/jobs", json=SPEC)
    assert r.status_code == 201, r.text
    job_id = r.json()["id"]
    with client.websocket_connect(f"/ws/jobs/{job_id}") as ws:
        while ws.receive_json()["type"] not in ("done", "error"):
            pass
    assert client.get(f"/api/jobs/{job_id}").json()["status"] == "completed"
    history = client.get(f"/api/jobs/{job_id}/history").json()["epochs"]
    assert abs(history[0]["train_loss"] - 0.298371109) < 5e-9
    w = client.get(f"/api/jobs/{job_id}/weights").json()["weights"]
    np.testing.assert_allclose(w["0.W"], [[0.149780716, 0.249751144], [0.199561432, 0.299502287]], atol=1e-9)
    np.testing.assert_allclose(w["1.W"], [[0.35891648, 0.511301271], [0.408666186, 0.561370122]], atol=1e-9)
