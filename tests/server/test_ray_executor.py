"""The Ray executor beyond the contract suite: jobs run on a node that is not the server's, light jobs spread
over the nodes, a real engine job trains on Ray and its model reaches the server's store, health names the
nodes. The cluster (ray_cluster.py) is the session's two-node one on 127.0.0.1; skipped without Ray."""
from __future__ import annotations

import pytest

from ray_cluster import WORKER_RESOURCE
from server.jobs.artifacts import LocalArtifactStore
from server.jobs.messages import Event, Failed, Finished
from server_support import tiny_spec, wait_for
from test_executor_contract import run


@pytest.fixture
def cluster(ray_cluster):
    return ray_cluster


def ray_executor(**options):
    from server.jobs.ray_executor import RayExecutor

    return RayExecutor(train_path="fake_train:train", checkpoint_seconds=0.0, cancel_grace=1.0, **options)


async def run_jobs(executor, store, jobs: dict[str, tuple[dict, str | None]]) -> list:
    """Submit every job (id -> (spec, lane)) and collect every message until each has its terminal one."""
    executor.start(store)
    messages = aiter(executor.messages())
    for job_id, (spec, lane) in jobs.items():
        executor.submit(job_id, spec, lane=lane)
    seen, open_jobs = [], set(jobs)
    while open_jobs:
        for message in await anext(messages):
            seen.append(message)
            if isinstance(message, (Finished, Failed)):
                open_jobs.discard(message.job_id)
    await executor.shutdown()
    return seen


def where(seen: list) -> dict[str, str]:
    """job id -> the Ray node id its worker reported (fake_train's 'where' mode)."""
    return {m.job_id: m.event["node_id"] for m in seen if isinstance(m, Event) and m.event["type"] == "where"}


def test_a_job_asking_for_the_worker_resource_runs_on_the_node_that_is_not_the_servers(cluster, tmp_path):
    executor = ray_executor(resources={WORKER_RESOURCE: 0.01})
    seen = run(run_jobs(executor, LocalArtifactStore(tmp_path), {"away": ({"mode": "where", "epochs": 2}, None)}))
    node = where(seen)["away"]
    assert node == cluster.worker_node_id and node != cluster.head_node_id
    assert seen[-1] == Finished("away", "completed", "2 epochs", 2, "away")
    with open(tmp_path / "away.npz", "rb") as f:   # the model came back through Ray's object store
        assert f.read() == b"fake model 2"


def test_light_jobs_are_spread_over_both_nodes(cluster, tmp_path):
    jobs = {f"light{i}": ({"mode": "where", "epochs": 20, "seconds": 0.02}, "light") for i in range(4)}
    seen = run(run_jobs(ray_executor(), LocalArtifactStore(tmp_path), jobs))
    assert set(where(seen).values()) == {cluster.head_node_id, cluster.worker_node_id}
    assert sorted(m.job_id for m in seen if isinstance(m, Finished) and m.outcome == "completed") == sorted(jobs)


def test_a_real_engine_job_trains_on_ray_and_the_server_serves_its_model(cluster, make_client):
    client = make_client(executor="ray")
    health = wait_for(lambda: (h := client.get("/api/health").json())["nodes"] and h)
    assert health["executor"] == "ray" and health["ray_address"] == cluster.address
    nodes = {n["node_id"]: n for n in health["nodes"]}
    assert set(nodes) == {cluster.head_node_id, cluster.worker_node_id}
    assert all(n["alive"] and n["address"] == "127.0.0.1" for n in nodes.values())
    assert nodes[cluster.worker_node_id]["resources"][WORKER_RESOURCE] == 100

    job = client.post("/api/jobs", json=tiny_spec(epochs=3)).json()
    done = wait_for(lambda: (j := client.get(f"/api/jobs/{job['id']}").json())["status"] == "completed" and j,
                    timeout=120)
    assert done["epoch"] == 3 and done["has_model"]
    assert len(client.get(f"/api/jobs/{job['id']}/history").json()["epochs"]) == 3
    answer = client.post(f"/api/jobs/{job['id']}/predict", json={"inputs": [[0.5, 0.5], [-0.5, 0.5]]})
    assert answer.status_code == 200, answer.text   # the model file is in the server's own store


def test_serve_with_the_ray_executor_but_no_ray_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    from server import cli
    from server.jobs import ray_executor

    monkeypatch.setattr(ray_executor, "ray_available", lambda: False)
    monkeypatch.setenv("NNPLAY_HOME", str(tmp_path))
    assert cli.main(["serve", "--executor", "ray"]) == 2
    assert "pip install 'nnplay[ray]'" in capsys.readouterr().err

