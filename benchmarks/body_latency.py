"""Event-loop latency while big JSON bodies arrive: GET /api/health p50/p99/max while four bodies are posted
at once, for each body kind, beside the same polling with nothing arriving (this machine's own noise), and
the cost of one worst allowed request of each kind on its own.

    python benchmarks/body_latency.py                       # every kind, 3 rounds of 4 bodies each
    python benchmarks/body_latency.py --kinds job,numbers --rounds 5

Bodies are sized from the server's own limits (/api/catalog), so the numbers follow the limits:
`job`       a valid POST /api/jobs at the limits: max_inline_points rows of inline data, max_inline_values
            values in all (starts a worker; the benchmark cancels it),
`job_over`  the same with one column too many: parsed, then refused (422 naming dataset.x),
`numbers`   a job body just under max_body_bytes of numbers in a field that is refused: every byte parsed,
`too_big`   a 6 MB job body, over max_body_bytes: 413 before it is read,
`strokes`   a stroke list just under max_body_bytes (POST /api/digits/predict): refused by max_json_containers,
`drawing`   the costliest drawing the stroke limits allow (max_strokes dots and a zigzag that uses all of
            max_pen_travel, max_stroke_points points): rasterized and read.
Prints the load average beside each row, so numbers from a shared machine can be compared.
"""
from __future__ import annotations

import argparse
import json
import os
import threading
import time

import httpx
import numpy as np

from load import start_server


def _job(x: list, y: list) -> dict:
    return {"dataset": {"name": "inline", "x": x, "y": y},
            "model": {"layers": [{"type": "dense", "units": 2, "activation": "softmax"}],
                      "loss": "categorical_crossentropy"},
            "training": {"epochs": 1, "batch_size": 100}}


def inline_job(limits: dict, extra_columns: int = 0) -> bytes:
    """Inline rows at the limits: max_inline_points rows, as many columns as max_inline_values allows
    (plus `extra_columns`), values with as many decimals as still fit under max_body_bytes."""
    rng = np.random.default_rng(0)
    rows = limits["max_inline_points"]
    cols = max(1, limits["max_inline_values"] // rows) + extra_columns
    for decimals in (6, 5, 4, 3, 2):
        x = rng.uniform(-1, 1, (rows, cols)).round(decimals).tolist()
        body = json.dumps(_job(x, rng.integers(0, 2, rows).tolist())).encode()
        if len(body) < limits["max_body_bytes"]:
            return body
    raise SystemExit("no inline job at the limits fits under max_body_bytes")


def numbers_job(nbytes: float) -> bytes:
    """A job body of about `nbytes` (never more): numbers in a field no dataset has."""
    values = np.random.default_rng(1).uniform(-1, 1, int(nbytes / 9)).round(6).tolist()
    body = b""
    while not body or len(body) > nbytes:
        values = values[:int(len(values) * 0.98)] if body else values
        body = json.dumps({"dataset": {"name": "xor", "junk": values}, "model": {"layers": [], "loss": "mse"}}).encode()
    return body


def stroke_list(nbytes: float) -> bytes:
    """One stroke of about `nbytes` (never more) of points."""
    pts = np.random.default_rng(0).uniform(0, 500, size=(int(nbytes / 15), 2)).round(2).tolist()
    body = b""
    while not body or len(body) > nbytes:
        pts = pts[:int(len(pts) * 0.98)] if body else pts
        body = json.dumps({"strokes": [pts]}).encode()
    return body


def worst_drawing(limits: dict) -> bytes:
    """max_strokes - 1 scattered dots, then one stroke: full-size diagonal jumps up to max_pen_travel and tiny
    steps up to max_stroke_points (the work of the rasterizer grows with strokes, points and travel)."""
    rng = np.random.default_rng(2)
    strokes = limits.get("max_strokes", 100)   # servers before max_strokes: the same drawing
    dots = [[p] for p in rng.uniform(0, 500, (strokes - 1, 2)).round(1).tolist()]
    jumps = int(limits["max_pen_travel"] / 2 ** 0.5) - 1          # each jump travels 1.41 x the drawing's size
    zigzag = [[0, 0], [500, 500]] * (jumps // 2)
    zigzag += [[round(i * 0.001, 3), 0] for i in range(limits["max_stroke_points"] - len(dots) - len(zigzag))]
    return json.dumps({"strokes": dots + [zigzag]}).encode()


KINDS = {
    "job": ("/api/jobs", lambda lim: inline_job(lim)),
    "job_over": ("/api/jobs", lambda lim: inline_job(lim, extra_columns=1)),
    "numbers": ("/api/jobs", lambda lim: numbers_job(lim["max_body_bytes"] * 0.97)),
    "too_big": ("/api/jobs", lambda lim: numbers_job(6e6)),
    "strokes": ("/api/digits/predict", lambda lim: stroke_list(lim["max_body_bytes"] * 0.97)),
    "drawing": ("/api/digits/predict", worst_drawing),
}


def poll(url: str, into: list, until) -> None:
    with httpx.Client(base_url=url, timeout=60) as http:
        while not until():
            start = time.perf_counter()
            http.get("/api/health").raise_for_status()
            into.append(time.perf_counter() - start)
            time.sleep(0.005)


def pick(values: list, q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * q))] * 1000


def post(http: httpx.Client, path: str, body: bytes) -> int:
    res = http.post(path, content=body, headers={"content-type": "application/json"})
    if res.status_code == 201:
        http.post(f"/api/jobs/{res.json()['id']}/cancel")
    return res.status_code


def measure(url: str, path: str, body: bytes, rounds: int) -> tuple[list, list]:
    latencies, codes, stop = [], [], threading.Event()

    def send() -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            for _ in range(rounds):
                codes.append(post(http, path, body))

    poller = threading.Thread(target=poll, args=(url, latencies, stop.is_set))
    poller.start()
    senders = [threading.Thread(target=send) for _ in range(4)]
    for t in senders:
        t.start()
    for t in senders:
        t.join()
    stop.set()
    poller.join()
    return latencies, codes


def single_cost(url: str, path: str, body: bytes, repeats: int = 3) -> float:
    """Median seconds of one request on its own (the answer included, the cancel of a job not)."""
    times = []
    with httpx.Client(base_url=url, timeout=120) as http:
        for _ in range(repeats):
            start = time.perf_counter()
            res = http.post(path, content=body, headers={"content-type": "application/json"})
            times.append(time.perf_counter() - start)
            if res.status_code == 201:
                http.post(f"/api/jobs/{res.json()['id']}/cancel")
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    proc, url = (None, args.url) if args.url else start_server()
    try:
        limits = httpx.get(f"{url}/api/catalog").json()["limits"]
        print("limits: " + ", ".join(f"{k} {limits.get(k, '-')}" for k in (
            "max_body_bytes", "max_inline_points", "max_inline_values", "max_stroke_points", "max_strokes",
            "max_pen_travel")))
        print(f"{'kind':9s} {'MB':>5s} {'code':>5s} {'one alone':>10s} | {'idle p50':>8s} {'p99':>6s} | "
              f"{'4 at once p50':>13s} {'p99':>7s} {'max':>7s}  {'n':>4s}  load (1 min)")
        for kind in args.kinds.split(","):
            path, make = KINDS[kind]
            body = make(limits)
            alone = single_cost(url, path, body)
            idle: list = []
            poll(url, idle, lambda: len(idle) >= 100)
            busy, codes = measure(url, path, body, args.rounds)
            print(f"{kind:9s} {len(body) / 1e6:5.2f} {'/'.join(map(str, sorted(set(codes)))):>5s} "
                  f"{alone * 1000:7.0f} ms | {pick(idle, 0.5):5.1f} ms {pick(idle, 0.99):3.0f} ms | "
                  f"{pick(busy, 0.5):10.1f} ms {pick(busy, 0.99):4.0f} ms {max(busy) * 1000:4.0f} ms  "
                  f"{len(busy):4d}  {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
