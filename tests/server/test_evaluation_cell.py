"""GET /api/jobs/{id}/evaluation/cell: the test examples behind one confusion-matrix cell."""
from __future__ import annotations

import numpy as np

from server_support import tiny_spec
from test_api import run_job


def test_each_cell_returns_its_count_and_examples_matching_the_matrix(client):
    job = run_job(client, tiny_spec(epochs=5))
    ev = client.get(f"/api/jobs/{job['id']}/evaluation").json()
    assert "cells" not in ev                                       # the matrix stays small; cells are asked for
    confusion = np.array(ev["confusion"])
    for t in range(2):
        for p in range(2):
            cell = client.get(f"/api/jobs/{job['id']}/evaluation/cell", params={"label": t, "predicted": p}).json()
            assert cell["count"] == confusion[t, p] and (cell["label"], cell["predicted"]) == (t, p)
            assert len(cell["examples"]) == min(confusion[t, p], 24)
            assert all(e["label"] == t and e["predicted"] == p for e in cell["examples"])
            probs = [e["probability"] for e in cell["examples"]]
            assert probs == sorted(probs, reverse=True)


def test_an_empty_or_impossible_cell_is_empty_and_a_negative_one_is_refused(client):
    job = run_job(client, tiny_spec(epochs=1))
    empty = client.get(f"/api/jobs/{job['id']}/evaluation/cell", params={"label": 7, "predicted": 7}).json()
    assert empty["count"] == 0 and empty["examples"] == []
    bad = client.get(f"/api/jobs/{job['id']}/evaluation/cell", params={"label": -1, "predicted": 0})
    assert bad.status_code == 422
