"""With NNPLAY_API_TOKEN set the token never travels in a URL: REST reads only `Authorization: Bearer`, the
socket reads the `nnplay.token.<token>` subprotocol, a first {"type": "auth"} message or the Bearer header."""
from __future__ import annotations

import json

import pytest
from websockets.sync.client import connect

from server_support import LiveServer, tiny_spec, wait_for

TOKEN = "s3cret-7f3a"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def guarded(make_client):
    return make_client(api_token=TOKEN)


def long_job(client) -> str:
    r = client.post("/api/jobs", json=tiny_spec(epochs=100_000), headers=BEARER)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def until(ws, kind: str) -> dict:
    while (message := ws.receive_json())["type"] != kind:
        pass
    return message


def status(client, job_id) -> str:
    return client.get(f"/api/jobs/{job_id}").json()["status"]


def test_rest_refuses_a_token_given_only_in_the_url(guarded):
    r = guarded.post(f"/api/jobs?token={TOKEN}", json=tiny_spec())
    assert r.status_code == 401 and "Authorization: Bearer" in r.json()["message"]
    assert guarded.get("/api/jobs").json()["total"] == 0


def test_a_socket_with_the_token_only_in_the_url_may_watch_but_not_command(guarded):
    job_id = long_job(guarded)
    with guarded.websocket_connect(f"/ws/jobs/{job_id}?token={TOKEN}") as ws:
        assert ws.receive_json()["type"] == "status"  # watching needs no token
        ws.send_json({"cmd": "pause"})
        refused = until(ws, "error")
        assert refused["recoverable"] and "nnplay.token." in refused["message"] and "?token=" in refused["message"]
    assert status(guarded, job_id) == "running"
    guarded.post(f"/api/jobs/{job_id}/cancel", headers=BEARER)


def test_the_token_subprotocol_authorizes_commands_and_nnplay_is_accepted(guarded):
    job_id = long_job(guarded)
    with guarded.websocket_connect(f"/ws/jobs/{job_id}", subprotocols=["nnplay", f"nnplay.token.{TOKEN}"]) as ws:
        assert ws.accepted_subprotocol == "nnplay"
        ws.send_json({"cmd": "pause"})
        wait_for(lambda: status(guarded, job_id) == "paused")
    guarded.post(f"/api/jobs/{job_id}/cancel", headers=BEARER)


def test_a_first_auth_message_authorizes_commands_and_a_wrong_one_is_refused(guarded):
    job_id = long_job(guarded)
    with guarded.websocket_connect(f"/ws/jobs/{job_id}") as ws:
        ws.send_json({"type": "auth", "token": "wrong"})
        refused = until(ws, "error")
        assert refused["fields"] == ["token"] and "wrong" in refused["message"]
        ws.send_json({"type": "auth", "token": TOKEN})
        assert until(ws, "auth") == {"type": "auth", "authorized": True}
        ws.send_json({"cmd": "pause"})
        wait_for(lambda: status(guarded, job_id) == "paused")
    guarded.post(f"/api/jobs/{job_id}/cancel", headers=BEARER)


def test_a_wrong_token_subprotocol_does_not_authorize(guarded):
    job_id = long_job(guarded)
    with guarded.websocket_connect(f"/ws/jobs/{job_id}", subprotocols=["nnplay", "nnplay.token.wrong"]) as ws:
        ws.send_json({"cmd": "pause"})
        assert "API token" in until(ws, "error")["message"]
    guarded.post(f"/api/jobs/{job_id}/cancel", headers=BEARER)


def test_over_a_real_server_the_subprotocol_handshake_completes_and_commands_work(tmp_path):
    server = LiveServer(tmp_path / "home", {"NNPLAY_API_TOKEN": TOKEN}).start()
    try:
        with server.client() as http:
            job_id = long_job(http)
            with connect(f"{server.ws_url}/ws/jobs/{job_id}", subprotocols=["nnplay", f"nnplay.token.{TOKEN}"],
                         open_timeout=10, proxy=None) as ws:
                assert ws.subprotocol == "nnplay"  # a browser drops a socket whose offer was not answered
                ws.send(json.dumps({"cmd": "pause"}))
                wait_for(lambda: status(http, job_id) == "paused")
            http.post(f"/api/jobs/{job_id}/cancel", headers=BEARER)
    finally:
        server.stop()
    assert TOKEN not in "".join(server.log)
