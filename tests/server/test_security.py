"""Other web sites must not drive the server: Host check (DNS rebinding), Origin check (cross-site requests and
WebSocket hijacking), no unauthenticated network bind, and no token in the logs (server/security.py)."""
from __future__ import annotations

import socket

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from server_support import tiny_spec, wait_for
from tests.live_server import LiveServer
from server.cli import main
from server.security import bind_names, is_loopback, redact
from server.settings import Settings

EVIL = "http://evil.example:8000"
SECRET = "lecture-hall-7f3a-secret"


# --- Host (DNS rebinding) -------------------------------------------------------------------------------------

def test_a_page_under_another_name_can_neither_create_nor_list_jobs(client):
    evil = {"Host": "evil.example:8000"}
    created = client.post("/api/jobs", json=tiny_spec(), headers=evil)
    assert created.status_code == 400
    assert "'evil.example'" in created.json()["message"] and "--allowed-hosts" in created.json()["message"]
    assert client.get("/api/jobs", headers=evil).status_code == 400
    assert client.get("/api/jobs").json()["total"] == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8000", "localhost:5173", "LOCALHOST", "[::1]:8000"])
def test_the_local_names_are_served_on_any_port(client, host):
    assert client.get("/api/health", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example@127.0.0.1", "127.0.0.1/x", "127.0.0.1:99999", ""])
def test_a_malformed_host_header_is_refused(client, host):
    assert client.get("/api/health", headers={"Host": host}).status_code == 400


def test_the_default_settings_do_not_answer_to_the_test_clients_name(tmp_path):
    from fastapi.testclient import TestClient

    from server.main import create_app

    client = TestClient(create_app(Settings(home=tmp_path)))  # sends Host: testserver; no lifespan needed
    assert client.get("/api/health").status_code == 400
    assert client.get("/api/health", headers={"Host": "localhost:8000"}).status_code == 200


def test_nnplay_allowed_hosts_adds_names_for_a_classroom_server(monkeypatch, make_client):
    monkeypatch.setenv("NNPLAY_ALLOWED_HOSTS", "MyHost.local, 10.0.0.7,")
    assert Settings().allowed_hosts == ["myhost.local", "10.0.0.7"]
    client = make_client(allowed_hosts=Settings().allowed_hosts)
    assert client.get("/api/health", headers={"Host": "myhost.local:8000"}).status_code == 200
    assert client.get("/api/health", headers={"Host": "10.0.0.7"}).status_code == 200
    assert client.get("/api/health", headers={"Host": "testserver"}).status_code == 400


# --- Origin (cross-site requests) -----------------------------------------------------------------------------

@pytest.mark.parametrize("host, origin", [("testserver", EVIL), ("127.0.0.1:8000", "http://127.0.0.1:8001"),
                                          ("localhost", "https://localhost"), ("testserver", "null")])
def test_a_mutating_request_from_another_origin_is_refused_with_403(client, host, origin):
    refused = client.post("/api/jobs", json=tiny_spec(), headers={"Host": host, "Origin": origin})
    assert refused.status_code == 403
    assert refused.json()["message"].startswith("cross-site request refused: POST requests from")
    assert client.get("/api/jobs").json()["total"] == 0


def test_cancel_and_delete_from_another_origin_are_refused_and_the_job_stays(client):
    job = client.post("/api/jobs", json=tiny_spec(epochs=2)).json()
    assert client.post(f"/api/jobs/{job['id']}/cancel", headers={"Origin": EVIL}).status_code == 403
    assert client.delete(f"/api/jobs/{job['id']}", headers={"Origin": EVIL}).status_code == 403
    assert client.get(f"/api/jobs/{job['id']}").status_code == 200


def test_same_origin_pages_and_clients_without_origin_may_create_jobs(client):
    assert client.post("/api/jobs", json=tiny_spec(), headers={"Origin": "http://testserver"}).status_code == 201
    assert client.post("/api/jobs", json=tiny_spec()).status_code == 201  # curl, Python
    assert client.get("/api/jobs", headers={"Origin": EVIL}).status_code == 200  # reads: the Host check's job


def test_a_page_under_an_allowed_name_may_drive_a_server_behind_a_proxy(make_client):
    client = make_client(allowed_hosts=["nnplay.school.org"])
    # the proxy rewrote Host to the server's own address; Origin still names the public site
    headers = {"Host": "127.0.0.1:8000", "Origin": "https://nnplay.school.org"}
    assert client.post("/api/jobs", json=tiny_spec(), headers=headers).status_code == 201


def test_a_websocket_from_another_origin_is_denied_in_the_test_client(client):
    from starlette.testclient import WebSocketDenialResponse

    with pytest.raises(WebSocketDenialResponse) as denied:
        with client.websocket_connect("/ws/jobs/nope", headers={"Origin": EVIL}):
            pass
    assert denied.value.status_code == 403


# --- the real server: WebSocket hijacking and rebinding on the handshake --------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = LiveServer(tmp_path_factory.mktemp("security")).start()
    yield srv
    srv.stop()


def test_a_websocket_handshake_from_another_site_fails_with_403(server):
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{server.ws_url}/ws/jobs/nope", origin=EVIL, proxy=None, open_timeout=10)
    assert refused.value.response.status_code == 403
    assert b"cross-site request refused: WebSocket connections" in refused.value.response.body


def test_a_websocket_from_the_servers_own_page_connects(server):
    with connect(f"{server.ws_url}/ws/jobs/nope", origin=server.url, proxy=None, open_timeout=10) as ws:
        assert '"error"' in ws.recv(timeout=10)  # served: the job is unknown, and the socket says so


def raw_handshake(port: int, host: str) -> str:
    """The status line a WebSocket handshake for `host` gets (websockets always sends the URI's own Host)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET /ws/jobs/nope HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        return sock.makefile("rb").readline().decode()


def test_a_websocket_handshake_for_another_name_fails_with_400(server):
    assert raw_handshake(server.port, f"evil.example:{server.port}").split()[1] == "400"
    assert raw_handshake(server.port, f"localhost:{server.port}").split()[1] == "101"


# --- tokens stay out of the logs ------------------------------------------------------------------------------

def test_redact_hides_token_values_and_keeps_the_rest_of_the_url():
    assert redact("/ws/jobs/1?since=3&token=abc%20d&x=1") == "/ws/jobs/1?since=3&token=[redacted]&x=1"
    assert redact("/x?access_token=abc") == "/x?access_token=[redacted]"
    assert redact("/api/tokens/1?n=2") == "/api/tokens/1?n=2"


@pytest.mark.parametrize("cli_args", [(), None], ids=["nnplay-serve", "uvicorn-server.main:app"])
def test_the_token_in_a_url_never_reaches_the_server_log(tmp_path, cli_args):
    srv = LiveServer(tmp_path, {"NNPLAY_API_TOKEN": SECRET}, cli_args=cli_args).start()
    try:
        with srv.client() as http:
            assert http.get(f"/api/jobs?token={SECRET}").status_code == 200
        with connect(f"{srv.ws_url}/ws/jobs/nope?token={SECRET}", proxy=None, open_timeout=10) as ws:
            ws.recv(timeout=10)
        log = wait_for(lambda: "".join(srv.log) if "WebSocket /ws/jobs/nope" in "".join(srv.log)
                       and "/api/jobs?token" in "".join(srv.log) else None)
    finally:
        srv.stop()
    assert SECRET not in log
    assert "/api/jobs?token=[redacted]" in log and "/ws/jobs/nope?token=[redacted]" in log


# --- nnplay serve on the network needs a token ----------------------------------------------------------------

@pytest.fixture
def served(monkeypatch, tmp_path):
    """Runs `nnplay serve` in-process with uvicorn.run replaced: the call it would make, never a real bind."""
    import uvicorn

    calls = []
    monkeypatch.setenv("NNPLAY_HOME", str(tmp_path))
    monkeypatch.delenv("NNPLAY_API_TOKEN", raising=False)
    monkeypatch.delenv("NNPLAY_ALLOWED_HOSTS", raising=False)
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    return calls


def test_serve_on_every_interface_without_a_token_refuses_to_start(served, capsys):
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    message = capsys.readouterr().err
    assert "NNPLAY_API_TOKEN" in message and "--allow-unauthenticated" in message and "0.0.0.0" in message
    assert served == []


@pytest.mark.parametrize("args", [["--host", "0.0.0.0", "--allow-unauthenticated"], ["--host", "127.0.0.1"],
                                  ["--host", "localhost"]])
def test_serve_starts_on_loopback_or_when_told_the_network_is_trusted(served, args):
    assert main(["serve", *args]) == 0
    assert served[0][1]["host"] == args[1]


def test_serve_with_a_token_listens_on_the_network_and_answers_to_the_given_names(served, monkeypatch):
    monkeypatch.setenv("NNPLAY_API_TOKEN", SECRET)
    assert main(["serve", "--host", "192.168.1.5", "--allowed-hosts", "myhost.local,Other.Lan"]) == 0
    app, options = served[0]
    assert app.state.settings.allowed_hosts == ["192.168.1.5", "myhost.local", "other.lan"]
    loggers = options["log_config"]["loggers"]
    assert all("redact_tokens" in loggers[name]["filters"] for name in ("uvicorn.access", "uvicorn.error"))


def test_loopback_addresses_and_listen_everywhere_binds():
    assert all(map(is_loopback, ["127.0.0.1", "127.4.5.6", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "192.168.1.5", "myhost.local"]))
    assert bind_names("0.0.0.0") == bind_names("::") == [] and bind_names("::1") == ["[::1]"]
