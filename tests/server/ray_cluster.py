"""A two-node Ray cluster on 127.0.0.1 for the Ray executor's tests, started once per test session.

The head is the server's node (this test process is the driver); the second node alone has the custom
resource WORKER_RESOURCE, so a job that asks for it runs on a node that is not the server's. Small and quiet:
no dashboard, no usage reports, 100 MB object stores, every process bound to loopback. Only the processes
this fixture started are stopped (Cluster.shutdown), never anyone else's Ray.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

WORKER_RESOURCE = "nnplay_remote"   # only the second node has it
HERE = Path(__file__).resolve().parent


@dataclass
class RayCluster:
    address: str
    head_node_id: str     # the server's (driver's) node
    worker_node_id: str   # the second node, the one with WORKER_RESOURCE
    seconds: float        # how long starting it took


@pytest.fixture(scope="session")
def ray_cluster():
    from server.jobs.ray_executor import import_ray, ray_available

    if not ray_available():   # (not importorskip: Ray must first be imported by import_ray, which sets it up)
        pytest.skip("Ray is not installed (pip install -e '.[test,ray]' runs these tests)")

    started = time.monotonic()
    # Ray's workers import fake_train (the suite's train function) from here
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH")) if p)
    ray = import_ray("127.0.0.1")
    from ray.cluster_utils import Cluster

    node = {"node_ip_address": "127.0.0.1", "object_store_memory": 100 * 2**20, "num_cpus": 2}
    cluster = Cluster(initialize_head=True, connect=False, head_node_args={**node, "include_dashboard": False})
    worker = cluster.add_node(**node, resources={WORKER_RESOURCE: 100})
    try:
        ray.init(address=cluster.address, _node_ip_address="127.0.0.1", namespace="nnplay-tests",
                 logging_level="warning")
        cluster.wait_for_nodes()
        info = RayCluster(cluster.address, ray.get_runtime_context().get_node_id(), worker.node_id,
                          time.monotonic() - started)
        print(f"\nray cluster (2 nodes) up in {info.seconds:.1f} s at {info.address}")
        yield info
    finally:
        ray.shutdown()
        cluster.shutdown()
