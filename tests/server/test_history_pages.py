"""GET /api/jobs/{id}/history is paged (`since`, `limit`, `next_since`); CSV downloads stay whole."""
from __future__ import annotations

import pytest

from server_support import tiny_spec


@pytest.fixture
def finished(make_client):
    """A client whose server pages by 4 (at most 6), and a finished job of 10 epochs."""
    client = make_client(history_page=4, max_history_page=6)
    job_id = client.post("/api/jobs", json=tiny_spec(epochs=10)).json()["id"]
    with client.websocket_connect(f"/ws/jobs/{job_id}") as ws:
        while ws.receive_json()["type"] != "done":
            pass
    return client, job_id


def pages(client, job_id, **params) -> list[list[int]]:
    out, since = [], params.pop("since", 0)
    while since is not None:
        body = client.get(f"/api/jobs/{job_id}/history", params={"since": since, **params}).json()
        assert body["job_id"] == job_id
        out.append([r["epoch"] for r in body["epochs"]])
        since = body["next_since"]
    return out


def test_history_comes_in_pages_of_the_default_size_with_next_since(finished):
    client, job_id = finished
    assert pages(client, job_id) == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]


def test_limit_sets_the_page_size_and_is_clamped_to_the_maximum(finished):
    client, job_id = finished
    assert pages(client, job_id, limit=5) == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]
    assert pages(client, job_id, limit=1000) == [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10]]
    assert pages(client, job_id, since=8) == [[9, 10]]


def test_a_page_ending_exactly_at_the_last_epoch_has_no_next_page(finished):
    client, job_id = finished
    body = client.get(f"/api/jobs/{job_id}/history", params={"since": 6, "limit": 4}).json()
    assert [r["epoch"] for r in body["epochs"]] == [7, 8, 9, 10] and body["next_since"] is None


def test_csv_download_has_every_epoch_and_a_csv_page_only_its_rows(finished):
    client, job_id = finished
    lines = client.get(f"/api/jobs/{job_id}/history?format=csv").text.splitlines()
    assert lines[0].startswith("epoch,") and [int(l.split(",")[0]) for l in lines[1:]] == list(range(1, 11))
    page = client.get(f"/api/jobs/{job_id}/history", params={"format": "csv", "since": 2, "limit": 3}).text
    assert [int(l.split(",")[0]) for l in page.splitlines()[1:]] == [3, 4, 5]


def test_the_catalog_lists_the_history_page_limits(finished):
    client, _ = finished
    limits = client.get("/api/catalog").json()["limits"]
    assert limits["history_page"] == 4 and limits["max_history_page"] == 6


def test_the_socket_replays_a_history_longer_than_a_page_without_gaps(finished):
    client, job_id = finished
    with client.websocket_connect(f"/ws/jobs/{job_id}?since=1") as ws:
        messages = []
        while (m := ws.receive_json())["type"] != "done":
            messages.append(m)
    assert [m["epoch"] for m in messages if m["type"] == "epoch"] == list(range(2, 11))
