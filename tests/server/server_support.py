"""Shared fixtures: tiny job specs, a TestClient app in tmp_path, and real uvicorn servers."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def tiny_spec(epochs: int = 5, **training) -> dict:
    """A 2-D classification job that trains in milliseconds per epoch."""
    return {
        "dataset": {"name": "xor", "n_samples": 100, "seed": 1},
        "model": {"layers": [{"type": "dense", "units": 4, "activation": "tanh"},
                             {"type": "dense", "units": 2, "activation": "softmax"}],
                  "loss": "categorical_crossentropy"},
        "training": {"epochs": epochs, "batch_size": 50, "optimizer": {"name": "adam", "learning_rate": 0.05},
                     **training},
        "stream": {"resolution": 16, "neuron_resolution": 8, "bins": 10, "max_fps": 50},
    }


def diverging_spec() -> dict:
    return {"dataset": {"name": "plane", "n_samples": 100},
            "model": {"layers": [{"type": "dense", "units": 1}], "loss": "mean_squared_error"},
            "training": {"epochs": 200, "optimizer": {"name": "sgd", "learning_rate": 9.0}}}


@pytest.fixture
def spec():
    return tiny_spec


@pytest.fixture
def make_client(tmp_path):
    """make_client(**settings) -> a started TestClient (closed at teardown)."""
    from fastapi.testclient import TestClient

    from server.main import create_app
    from server.settings import Settings

    clients = []

    def make(**overrides):
        settings = Settings(home=tmp_path / "home", workers_jobs=2, checkpoint_seconds=0.0)
        for key, value in overrides.items():
            setattr(settings, key, value)
        client = TestClient(create_app(settings))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client):
    return make_client()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """`python -m uvicorn server.main:app` on a free 127.0.0.1 port with its own NNPLAY_HOME."""

    def __init__(self, home: Path, env: dict | None = None):
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.env = {**os.environ, "NNPLAY_HOME": str(home), "PYTHONPATH": f"{REPO}{os.pathsep}{HERE}",
                    "NNPLAY_CHECKPOINT_SECONDS": "0.2", "NNPLAY_CANCEL_GRACE": "1", **(env or {})}
        self.proc = None
        self.log: list[str] = []

    def start(self, timeout: float = 30) -> "LiveServer":
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "server.main:app", "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "info"], env=self.env, cwd=str(REPO), stderr=subprocess.PIPE, text=True)
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.log.append(line)
                if "Application startup complete" in line:
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(timeout):
            self.stop()
            raise RuntimeError("server did not start:\n" + "".join(self.log))
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill9(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """One real server per test module; fault_train makes a job with training.seed=13 segfault its worker."""
    server = LiveServer(tmp_path_factory.mktemp("live"),
                        {"NNPLAY_TRAIN_FN": "fault_train:train", "NNPLAY_WORKERS_JOBS": "2"}).start()
    yield server
    server.stop()


def wait_for(predicate, timeout: float = 20, interval: float = 0.05):
    """Poll `predicate` until truthy (for state only visible over HTTP); returns its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not reached in time")
