"""Event-loop latency while big JSON bodies arrive: GET /api/health p50/p99/max while four bodies are posted
at once, for each body kind, beside the same polling with nothing arriving (this machine's own noise).

    python benchmarks/body_latency.py                       # all kinds, 6 MB bodies, 3 rounds of 4 each
    python benchmarks/body_latency.py --kinds job --mb 6 --rounds 5

Kinds: `job` a valid POST /api/jobs with inline rows (as many values as the limits allow in --mb),
`numbers` a job body carrying a --mb list of numbers in a field that is refused, `strokes` a --mb stroke list
(POST /api/digits/predict). Prints the load average seen, so numbers from a shared machine can be compared.
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


def inline_job(mb: float) -> bytes:
    """A valid job: inline rows of 50 features, as many rows as fit in `mb` (capped by max_inline_* limits)."""
    rng = np.random.default_rng(0)
    cols = 50
    rows = min(10_000, int(mb * 1e6 / (cols * 9)))
    x = rng.uniform(-1, 1, (rows, cols)).round(6).tolist()
    y = rng.integers(0, 2, rows).tolist()
    spec = {"dataset": {"name": "inline", "x": x, "y": y},
            "model": {"layers": [{"type": "dense", "units": 2, "activation": "softmax"}],
                      "loss": "categorical_crossentropy"},
            "training": {"epochs": 1, "batch_size": 100}}
    return json.dumps(spec).encode()


def numbers_job(mb: float) -> bytes:
    values = np.random.default_rng(1).uniform(-1, 1, int(mb * 1e6 / 10)).round(6).tolist()
    return json.dumps({"dataset": {"name": "xor", "junk": values}, "model": {"layers": [], "loss": "mse"}}).encode()


def strokes(mb: float) -> bytes:
    pts = np.random.default_rng(0).uniform(0, 500, size=(int(mb * 1e6 / 20), 2)).round(2).tolist()
    return json.dumps({"strokes": [pts]}).encode()


KINDS = {"job": ("/api/jobs", inline_job), "numbers": ("/api/jobs", numbers_job),
         "strokes": ("/api/digits/predict", strokes)}


def poll(url: str, into: list, until) -> None:
    with httpx.Client(base_url=url, timeout=60) as http:
        while not until():
            start = time.perf_counter()
            http.get("/api/health").raise_for_status()
            into.append(time.perf_counter() - start)
            time.sleep(0.005)


def stats(values: list) -> str:
    v = sorted(values)
    pick = lambda q: v[min(len(v) - 1, int(len(v) * q))] * 1000  # noqa: E731
    return f"n={len(v):4d} p50={pick(0.5):6.1f} ms p99={pick(0.99):7.1f} ms max={v[-1] * 1000:7.1f} ms"


def measure(url: str, path: str, body: bytes, rounds: int) -> tuple[list, list]:
    latencies, codes, stop = [], [], threading.Event()

    def send() -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            for _ in range(rounds):
                res = http.post(path, content=body, headers={"content-type": "application/json"})
                codes.append(res.status_code)
                if res.status_code == 201:
                    http.post(f"/api/jobs/{res.json()['id']}/cancel")

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--mb", type=float, default=6.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    proc, url = (None, args.url) if args.url else start_server()
    try:
        print(f"load average before: {os.getloadavg()}")
        for kind in args.kinds.split(","):
            path, make = KINDS[kind]
            body = make(args.mb)
            idle: list = []
            poll(url, idle, lambda: len(idle) >= 100)
            busy, codes = measure(url, path, body, args.rounds)
            print(f"{kind:8s} {len(body) / 1e6:5.2f} MB x4 x{args.rounds}  codes {sorted(set(codes))}")
            print(f"   idle health  {stats(idle)}")
            print(f"   during       {stats(busy)}")
        print(f"load average after: {os.getloadavg()}")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
