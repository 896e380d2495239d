"""Shared fixtures: tiny job specs, a TestClient app in tmp_path, and real uvicorn servers."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.live_server import LiveServer as BaseLiveServer

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
        # TestClient sends Host: testserver, a name the server only answers to when told (server/security.py)
        # one queue for every job (the light lane closed, no warm pool): these tests are about admission,
        # status and results with tiny jobs, which the lanes would run at once; test_pooled_executor,
        # test_admission_lanes and test_concurrency open the light lane
        settings = Settings(home=tmp_path / "home", workers_jobs=2, checkpoint_seconds=0.0, max_light_jobs=0,
                            pool_processes=0, allowed_hosts=["testserver"])
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


class LiveServer(BaseLiveServer):
    """A real server whose workers can import this folder's train hooks (fake_train, fault_train)."""

    def __init__(self, home: Path, env: dict | None = None):
        super().__init__(home, {"NNPLAY_CHECKPOINT_SECONDS": "0.2", "NNPLAY_CANCEL_GRACE": "1", **(env or {})},
                         pythonpath=(HERE,))


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
