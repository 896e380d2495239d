"""Big bodies never stall the event loop: they are counted, parsed and validated in a bounded thread pool
(server/limits.py), and a body of too many arrays (a 6 MB stroke list) is refused before it is parsed."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from server.settings import Settings
from server_support import LiveServer


def stroke_body(points: int) -> bytes:
    pts = np.random.default_rng(0).uniform(0, 500, size=(points, 2)).round(2).tolist()
    return json.dumps({"strokes": [pts]}).encode()


def numbers_body(values: int) -> bytes:
    """A job body of few arrays and many numbers: passes the container count, so all of it is parsed (then
    refused: `junk` is no dataset option)."""
    numbers = np.random.default_rng(1).uniform(-1, 1, values).round(6).tolist()
    return json.dumps({"dataset": {"name": "xor", "junk": numbers}, "model": {"layers": [], "loss": "mse"}}).encode()


def near_limit(make, limit: int, per_unit: float) -> bytes:
    """The largest body `make(n)` gives under `limit` bytes (n estimated from `per_unit` bytes, then shrunk)."""
    n = int(limit / per_unit)
    while len(body := make(n)) >= limit:
        n = int(n * 0.98)
    return body


def valid_inline_job() -> bytes:
    """A job at the inline limits: max_inline_points rows, max_inline_values values, accepted (201). It
    starts paused: its worker takes the spec and waits, so what is measured is the server handling the
    request, not four trainings competing for this machine's 2 cores (the benchmark lets them train)."""
    limits = Settings().engine_limits()
    rows = limits.max_inline_points
    rng = np.random.default_rng(0)
    spec = {"dataset": {"name": "inline", "x": rng.uniform(-1, 1, (rows, limits.max_inline_values // rows)).round(6)
                        .tolist(), "y": rng.integers(0, 2, rows).tolist()},
            "model": {"layers": [{"type": "dense", "units": 2, "activation": "softmax"}],
                      "loss": "categorical_crossentropy"},
            "training": {"epochs": 1, "batch_size": 100}, "paused": True}
    return json.dumps(spec).encode()


def poll(server, into: list, until) -> None:
    with server.client() as http:
        while not until():
            start = time.perf_counter()
            assert http.get("/api/health").status_code == 200
            into.append(time.perf_counter() - start)
            time.sleep(0.005)


def health_while_bodies_arrive(tmp_path, path: str, body: bytes, rounds: int = 5, min_samples: int = 20):
    """(p99 of /api/health while 4 senders post `body` `rounds` times each, idle p99, replies).

    The idle p99 is this (shared, busy) machine's own noise: the same polling with nothing arriving, 60
    samples just before and 60 just after the bodies, so a load that changes during the test is in it."""
    server = LiveServer(tmp_path).start()
    try:
        latencies, codes, stop = [], [], threading.Event()
        before: list = []
        poll(server, before, lambda: len(before) >= 60)

        def send():
            with server.client() as http:
                for _ in range(rounds):
                    res = http.post(path, content=body, headers={"content-type": "application/json"})
                    codes.append((res.status_code, res.json().get("message", "")))
                    if res.status_code == 201:
                        http.post(f"/api/jobs/{res.json()['id']}/cancel")

        poller = threading.Thread(target=poll, args=(server, latencies, stop.is_set))
        poller.start()
        senders = [threading.Thread(target=send) for _ in range(4)]
        for t in senders:
            t.start()
        for t in senders:
            t.join()
        stop.set()
        poller.join()
        after: list = []
        poll(server, after, lambda: len(after) >= 60)
    finally:
        server.stop()
    p99, base = p99_of(latencies), p99_of(before + after)
    print(f"health while {len(codes)} x {len(body) / 1e6:.1f} MB bodies arrive at {path} (4 at a time): "
          f"n={len(latencies)} p50={sorted(latencies)[len(latencies) // 2] * 1000:.0f} ms p99={p99 * 1000:.0f} ms "
          f"max={max(latencies) * 1000:.0f} ms; idle p99 {base * 1000:.0f} ms; load {os.getloadavg()[0]:.1f}")
    assert len(latencies) >= min_samples, "too few health samples while the bodies arrived to say anything"
    return p99, base, codes


def test_health_answers_quickly_while_four_stroke_lists_near_the_body_limit_arrive_at_once(tmp_path):
    body = near_limit(stroke_body, Settings().max_body_bytes, 15)
    assert len(body) > 0.9 * Settings().max_body_bytes
    # refused before any parse, in well under a second for all 20: the few health samples make p99 their max
    # (6 MB ones used to freeze it for seconds)
    within_bound_in_one_of_two_tries(tmp_path, body, lambda code, message: code == 422 and "max_json_containers"
                                     in message, path="/api/digits/predict", bound=0.25, rounds=5, min_samples=1)


def test_health_answers_quickly_while_four_json_job_bodies_near_the_body_limit_are_parsed_at_once(tmp_path):
    body = near_limit(numbers_body, Settings().max_body_bytes, 10)
    assert 0.9 * Settings().max_body_bytes < len(body) < Settings().max_body_bytes  # every byte is parsed
    # a 4 MB parse is 0.3 s of CPU holding the GIL; in the parse process it costs the loop nothing
    # (1.0-1.7 s p99 for 6 MB when it was parsed in a thread)
    within_bound_in_one_of_two_tries(tmp_path, body, lambda code, message: code == 422 and "dataset.junk" in message)


def test_health_answers_quickly_while_four_valid_jobs_at_the_inline_limits_are_created_at_once(tmp_path):
    """Valid jobs: parsed, validated, stored, answered and handed to a worker, four at a time (p99 2-3 s when
    the answers echoed 5 MB of rows and the spec was encoded and decoded in single GIL-holding calls)."""
    body = valid_inline_job()
    assert len(body) < Settings().max_body_bytes
    # the goal, idle + 100 ms: on an idle machine p99 24 ms, max 70 ms (idle p99 12 ms) since /api/health
    # runs describe() in the loop, not behind the creates' storage calls in the default thread pool; 2.1 MB jobs
    # with the old echoing answers and one-call encodes missed it by seconds
    within_bound_in_one_of_two_tries(tmp_path, body, lambda code, message: code == 201, bound=0.1)


def within_bound_in_one_of_two_tries(tmp_path, body: bytes, expected, bound: float = 0.1, path: str = "/api/jobs",
                                     rounds: int = 3, min_samples: int = 20) -> None:
    """health p99 while four `body`s arrive at `path` (`rounds` each) stays within `bound` of the idle p99. A second try (a new server) only when the first misses: a loaded shared machine (load 12-19 on 2
    cores) misses now and then by a few ms, a loop that blocks misses both by seconds."""
    misses = []
    for attempt in range(2):
        p99, base, codes = health_while_bodies_arrive(tmp_path / f"try{attempt}", path, body, rounds, min_samples)
        assert all(expected(code, message) for code, message in codes), codes[:1]
        if p99 < bound + base:
            return
        misses.append(f"p99 {p99 * 1000:.0f} ms, idle p99 {base * 1000:.0f} ms")
    raise AssertionError(f"health p99 over idle p99 + {bound * 1000:.0f} ms in both tries: {misses}")


def test_a_body_over_the_limit_is_refused_with_413_before_anything_parses_it(make_client, monkeypatch):
    from server import jsonparse

    def no_parse(*args):
        raise AssertionError("a body over max_body_bytes was parsed")

    monkeypatch.setattr(jsonparse, "parse_body", no_parse)
    client = make_client(max_body_bytes=1_000_000)
    res = client.post("/api/jobs", content=numbers_body(120_000), headers={"content-type": "application/json"})
    assert res.status_code == 413 and "max_body_bytes = 1000000" in res.json()["message"]


def test_a_big_body_is_parsed_in_the_parse_process_and_gives_the_same_value():
    from server import jsonparse

    body = numbers_body(40_000)
    assert len(body) >= jsonparse.PROCESS_BYTES
    value, problem = jsonparse.parse_body(body, 32, 50_000)
    assert problem is None and value == json.loads(body)
    pids = list(jsonparse._process_pool()._processes)
    assert len(pids) == 1 and pids[0] != os.getpid()  # it ran over there
    assert jsonparse.parse_body(b'{"a": [' + b"1," * 200_000 + b"NaN]}", 32, 50_000)[1].startswith("invalid JSON")


def test_the_parse_process_exits_when_its_server_is_killed():
    script = ("import os, json; from server import jsonparse\n"
              "jsonparse.WATCH_SECONDS = 0.1\n"
              "jsonparse.parse_body(json.dumps(list(range(100_000))).encode(), 32, 50_000)\n"
              "print(list(jsonparse._process_pool()._processes)[0], flush=True)\n"
              "os.kill(os.getpid(), 9)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    child = int(done.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Path(f"/proc/{child}").exists():
        time.sleep(0.1)
    assert not Path(f"/proc/{child}").exists(), "the parse process outlived its server"


def p99_of(values: list) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * 0.99))]


def test_a_body_of_too_many_arrays_is_refused_naming_the_limit(make_client):
    client = make_client(max_json_containers=100)
    res = client.post("/api/digits/predict", content=stroke_body(200), headers={"content-type": "application/json"})
    assert res.status_code == 422 and "more than 100 JSON arrays and objects (max_json_containers)" in res.json()["message"]
    assert client.get("/api/catalog").json()["limits"]["max_json_containers"] == 100
    ok = client.post("/api/digits/predict", content=stroke_body(50), headers={"content-type": "application/json"})
    assert ok.status_code == 200, ok.text


def test_validation_errors_found_in_the_pool_name_the_field_as_before(client):
    res = client.post("/api/digits/predict", json={"strokes": "zigzag"})
    assert res.status_code == 422 and res.json()["detail"][0]["field"].startswith("strokes")
    res = client.post("/api/jobs", json={"dataset": {"name": "xor"}, "model": {"layers": [], "loss": "mse"},
                                         "training": {"batch_size": "10"}})
    assert res.status_code == 422 and "training.batch_size" in res.json()["message"] and 'got "10"' in res.json()["message"]
