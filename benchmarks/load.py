"""Load benchmark: while 2 MNIST jobs train, measure GET /api/health and POST /api/digits/predict latency
(p50/p99, requests/s over loopback), and check that 50 WebSocket clients watching one job all receive
every epoch message.

    python benchmarks/load.py                 # starts its own server on a free port (NNPLAY_HOME in a temp dir)
    python benchmarks/load.py --url http://127.0.0.1:8000
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from websockets.asyncio.client import connect

REPO = Path(__file__).resolve().parents[1]
MNIST_DIR = os.environ.get("MNIST_DIR", "/work/shared/data/mnist")


def mnist_spec(epochs: int, limit: int) -> dict:
    return {"dataset": {"name": "mnist", "limit": limit, "flatten": True},  # the server finds it via $MNIST_DIR
            "model": {"layers": [{"type": "dense", "units": 64, "activation": "relu"},
                                 {"type": "dense", "units": 10, "activation": "softmax"}],
                      "loss": "categorical_crossentropy"},
            "training": {"epochs": epochs, "batch_size": 64, "optimizer": {"name": "adam", "learning_rate": 0.001}},
            "stream": {"histograms": True, "max_fps": 5}}


def start_server() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "NNPLAY_HOME": tempfile.mkdtemp(prefix="nnplay-load-"), "NNPLAY_WORKERS_JOBS": "2",
           "MNIST_DIR": MNIST_DIR}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "server.main:app", "--port", str(port),
                             "--log-level", "warning"], cwd=REPO, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{url}/api/health").status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def stroke_body(job_id: str | None) -> dict:
    body = {"strokes": [[[30, 20], [60, 20], [40, 90]], [[30, 55], [60, 55]]]}  # a "7"
    if job_id:
        body["job_id"] = job_id
    return body


async def measure(client, method: str, path: str, body, seconds: float, concurrency: int = 4) -> dict:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker():
        nonlocal errors
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            r = await client.request(method, path, json=body)
            latencies.append(time.perf_counter() - t)
            errors += r.status_code != 200

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    ms = np.array(latencies) * 1000
    return {"requests": len(ms), "errors": errors, "rps": round(len(ms) / (time.perf_counter() - start), 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 2), "p99_ms": round(float(np.percentile(ms, 99)), 2)}


async def watch(ws_url: str) -> list[int]:
    epochs = []
    async with connect(ws_url, max_size=None) as ws:
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] == "epoch":
                epochs.append(message["epoch"])
            if message["type"] in ("done", "error"):
                break
    return epochs


async def main_async(url: str, seconds: float, clients: int) -> dict:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        jobs = [(await http.post("/api/jobs", json=mnist_spec(epochs=200, limit=5000))).json()["id"] for _ in range(2)]
        # wait until both train and one has a checkpoint (predict falls back to it if no shipped model)
        while True:
            states = [(await http.get(f"/api/jobs/{j}")).json() for j in jobs]
            if all(s["status"] == "running" and s["epoch"] >= 1 for s in states):
                break
            await asyncio.sleep(0.2)
        probe = await http.post("/api/digits/predict", json=stroke_body(None))
        digit_job = None if probe.status_code == 200 else jobs[0]
        health = await measure(http, "GET", "/api/health", None, seconds)
        predict = await measure(http, "POST", "/api/digits/predict", stroke_body(digit_job), seconds)
        for j in jobs:
            await http.post(f"/api/jobs/{j}/cancel")
        watched = (await http.post("/api/jobs", json={**mnist_spec(epochs=30, limit=500)})).json()["id"]
        ws_url = url.replace("http", "ws") + f"/ws/jobs/{watched}"
        results = await asyncio.gather(*(watch(ws_url) for _ in range(clients)))
        final = (await http.get(f"/api/jobs/{watched}")).json()
        complete = sum(r == list(range(1, final["epoch"] + 1)) for r in results)
    return {"health": health, "digits_predict": predict, "digits_model": digit_job or "default",
            "ws_clients": clients, "ws_clients_with_every_epoch": complete, "ws_epochs": final["epoch"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="an already running server (default: start one)")
    parser.add_argument("--seconds", type=float, default=10.0, help="per latency measurement")
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    proc = None
    url = args.url
    if not url:
        proc, url = start_server()
    try:
        print(json.dumps(asyncio.run(main_async(url, args.seconds, args.clients)), indent=2))
    finally:
        if proc:
            proc.terminate()
            proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
