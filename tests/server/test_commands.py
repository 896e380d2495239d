"""Commands: one registry and one check (engine.control.check_command) behind REST and the WebSocket."""
from __future__ import annotations

import pytest

from engine.control import check_command
from engine.errors import SpecError
from engine.optimizers import LR
from server_support import tiny_spec

# (command, the field the refusal names)
REFUSED = [
    ({"cmd": "set", "learning_rate": "0.1"}, "learning_rate"),   # a string is not coerced
    ({"cmd": "set", "learning_rate": True}, "learning_rate"),    # nor is a bool
    ({"cmd": "set", "learning_rate": 0}, "learning_rate"),
    ({"cmd": "set", "learning_rate": LR.max * 2}, "learning_rate"),
    ({"cmd": "set"}, "learning_rate"),
    ({"cmd": "set", "learning_rate": 0.1, "momentum": 0.9}, "momentum"),
    ({"cmd": "explode"}, "cmd"),
    ({"learning_rate": 0.1}, "cmd"),
    (["pause"], "cmd"),
]
ACCEPTED = [{"cmd": "pause"}, {"cmd": "resume"}, {"cmd": "step"}, {"cmd": "set", "learning_rate": 0.5},
            {"cmd": "set", "learning_rate": LR.max}, {"cmd": "set", "learning_rate": 3}]


def refusal(command) -> str:
    with pytest.raises(SpecError) as e:
        check_command(command)
    return str(e.value)


@pytest.mark.parametrize("command, field", REFUSED)
def test_check_command_names_the_field(command, field):
    with pytest.raises(SpecError) as e:
        check_command(command)
    assert [p.path for p in e.value.problems] == [field]


def test_set_uses_the_optimizers_learning_rate_range():
    assert check_command({"cmd": "set", "learning_rate": LR.max}) == {"cmd": "set", "learning_rate": float(LR.max)}
    assert isinstance(check_command({"cmd": "set", "learning_rate": 3})["learning_rate"], float)


@pytest.fixture
def paused_job(client):
    """A long job, paused: commands reach it and nothing finishes while the test runs."""
    job = client.post("/api/jobs", json=tiny_spec(epochs=100_000)).json()
    with client.websocket_connect(f"/ws/jobs/{job['id']}") as ws:
        ws.send_json({"cmd": "pause"})
        while not (m := ws.receive_json())["type"] == "status" or m["status"] != "paused":
            pass
    yield job["id"]
    client.post(f"/api/jobs/{job['id']}/cancel")


def test_rest_and_socket_refuse_the_same_commands_with_the_same_words(client, paused_job):
    with client.websocket_connect(f"/ws/jobs/{paused_job}") as ws:
        assert ws.receive_json()["type"] == "status"
        for command, field in REFUSED:
            r = client.post(f"/api/jobs/{paused_job}/commands", json=command)
            assert r.status_code == 422, (command, r.text)
            assert [d["field"] for d in r.json()["detail"]] == [field]
            ws.send_json(command)
            while (reply := ws.receive_json())["type"] != "error":
                pass  # frames of the paused job
            assert reply["message"] == r.json()["message"] == refusal(command)
            assert reply["fields"] == [field] and reply["recoverable"]


def test_rest_and_socket_accept_the_same_commands(client, paused_job):
    with client.websocket_connect(f"/ws/jobs/{paused_job}") as ws:
        assert ws.receive_json()["type"] == "status"
        for command in ACCEPTED:
            r = client.post(f"/api/jobs/{paused_job}/commands", json=command)
            assert r.status_code == 200, (command, r.text)
            ws.send_json(command)
        ws.send_json({"cmd": "set", "learning_rate": 0.25})
        ws.send_json({"cmd": "explode"})  # a refusal marks the end: every accepted command came first
        while (reply := ws.receive_json())["type"] != "error":
            pass
        assert "explode" in reply["message"]  # the first refusal is the last command's


def test_control_runs_only_checked_commands():
    from engine.control import Control

    events: list[dict] = []
    control = Control(0.1, events.append, commands=lambda timeout: [{"cmd": "set", "learning_rate": 2}])
    assert control.check() is False and control.learning_rate == 2.0
    assert events == [{"type": "learning_rate", "epoch": 0, "learning_rate": 2.0}]
    bad = Control(0.1, events.append, commands=lambda timeout: [{"cmd": "set", "learning_rate": "0.5"}])
    with pytest.raises(SpecError, match="learning_rate"):  # refused, not silently ignored
        bad.check()
