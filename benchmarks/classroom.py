"""A class at once: N simulated students each press Play on the default playground against a real `nnplay serve`.

Usage: python benchmarks/classroom.py [--students 1,5,10,20,30,60] [--epochs 300] [--heavy] [--json OUT]
                                      [--serve-arg=--workers-jobs=30] [--env NAME=VALUE ...] [--ray-nodes 2]

Each student POSTs the job the playground page posts on Play (PLAYGROUND_SPEC below: captured from
static/js/main.js with chromium, the spiral 2-8-8-2 tanh net, adam 0.03, batch 32, frames at max_fps 12,
paced at 50 epochs/s; the page sends `epochs: null`, here it is 300 so every run ends) and then watches it
over one WebSocket, as the page does. Per student:
- first epoch: seconds from the POST being sent to the first `epoch` message;
- first boundary: seconds from the POST to the first `boundary` frame (epoch 0's frame counts: it is what
  the page draws first);
- epochs/s and boundary frames/s: counted from the student's first epoch message to its `done`;
- queue wait: the job's `started_at - created_at` (REST, after the run).
The table gives p50 / p95 over the students of each N, how many the server refused (429), and the CPU
seconds the server process and its worker processes used during that N (from /proc: the server's own
utime + stime; workers: every live descendant's plus what the server reaped, cutime + cstime), per epoch.

`--heavy` adds issue 13's second scenario: two MNIST CNN jobs (the small CNN of mnist_cnn.py, 10,000
images, full speed) start first; once both have begun, 20 students press Play; the table row is those 20,
and the MNIST jobs' epochs (and images/s) over the same window say whether they still progress.

`--ray-nodes K` runs the jobs on Ray instead: this script starts a K-node Ray cluster on 127.0.0.1 (a head
plus K-1 nodes, one logical CPU each, ray.cluster_utils; idle workers kept, RAY_SYSTEM_CONFIG) and the server
joins it (`--executor ray --ray-address`); the workers' CPU then includes every Ray process (sampled every
0.25 s: the cluster is this script's child).

The server runs with a fresh NNPLAY_HOME in a temporary folder, on 127.0.0.1 only.
"""
from __future__ import annotations

import argparse
import asyncio
import atexit
import copy
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

import common

REPO = common.REPO
CLK = os.sysconf("SC_CLK_TCK")
# what the playground page posts on Play (captured from the page with chromium; main.js: defaultModel,
# startTraining, STREAM_PACE; the output layer and loss are the summary's suggestion for the spiral)
_DENSE = {"type": "dense", "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros", "use_bias": True}
PLAYGROUND_SPEC = {
    "dataset": {"name": "spiral", "n_samples": 500, "noise": 0, "test_ratio": 0.5, "seed": 0, "n_classes": 2,
                "features": ["x1", "x2"]},
    "model": {"layers": [{**_DENSE, "units": 8, "activation": "tanh"}, {**_DENSE, "units": 8, "activation": "tanh"},
                         {**_DENSE, "units": 2, "activation": "softmax"}], "loss": "categorical_crossentropy"},
    "training": {"batch_size": 32, "epochs": None, "validation_split": 0, "seed": 0,
                 "optimizer": {"name": "adam", "learning_rate": 0.03, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07},
                 "regularization": {"l1": 0, "l2": 0}, "lr_schedule": {"name": "constant"}, "early_stopping": None},
    "stream": {"boundary": True, "resolution": 64, "neuron_resolution": 16, "histograms": True, "bins": 30,
               "max_fps": 12, "max_epochs_per_second": 50},
}
MNIST_CNN_LAYERS = [
    {"type": "conv2d", "filters": 8, "kernel_size": 3, "activation": "relu"},
    {"type": "maxpool2d", "pool_size": 2},
    {"type": "conv2d", "filters": 16, "kernel_size": 3, "activation": "relu"},
    {"type": "maxpool2d", "pool_size": 2},
    {"type": "flatten"},
    {"type": "dense", "units": 10, "activation": "softmax"},
]


def playground_spec(epochs: int, seed: int) -> dict:
    spec = copy.deepcopy(PLAYGROUND_SPEC)
    spec["training"]["epochs"] = epochs
    spec["training"]["seed"] = seed   # every student's own start (the page's seed is 0 for everyone)
    return spec


def mnist_spec(limit: int) -> dict:
    """The server finds the files through $MNIST_DIR (a path cannot be set over the API)."""
    return {"dataset": {"name": "mnist", "flatten": False, "limit": limit},
            "model": {"loss": "categorical_crossentropy", "layers": MNIST_CNN_LAYERS},
            "training": {"optimizer": {"name": "adam", "learning_rate": 1e-3}, "batch_size": 128, "epochs": 1000},
            "stream": {"histograms": True, "boundary": False, "max_fps": 2}}


# -- the server and its CPU ----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(serve_args: list[str], env: dict[str, str], home: Path, repo: Path = REPO,
                 profile: Path | None = None) -> tuple[subprocess.Popen, str]:
    """`nnplay serve` of the tree at `repo` (another checkout gives a baseline in the same run); `profile`:
    run it under cProfile (CPU-time clock of the event loop's thread) and write the stats there at exit."""
    port = free_port()
    full_env = {**os.environ, "NNPLAY_HOME": str(home), "PYTHONPATH": str(repo), **env}
    full_env.pop("NNPLAY_API_TOKEN", None)
    entry = [str(Path(__file__).with_name("profile_serve.py")), str(profile)] if profile else ["-m", "server.cli"]
    proc = subprocess.Popen([sys.executable, *entry, "serve", "--host", "127.0.0.1", "--port",
                             str(port), "--log-level", "warning", *serve_args], cwd=repo, env=full_env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
    proc.terminate()
    raise RuntimeError("the server did not start within 60 s")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()   # fields from 3 (state) on


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


RAY_ROOTS: list[int] = []   # --ray-nodes: the cluster's processes (this script's children), counted as workers
RAY_SEEN: dict[int, float] = {}   # every Ray process seen: its latest CPU s (Ray's workers come and go)
# Ray keeps only num_cpus idle workers per node and kills the others after ~1 s; each of a class's tasks needs
# a worker process of its own (~1 s of CPU to start), so the head keeps up to 64 idle ones for 10 minutes
RAY_SYSTEM_CONFIG = {"num_workers_soft_limit": 64, "idle_worker_killing_time_threshold_ms": 600_000}


def start_ray_cluster(nodes: int):
    """A `nodes`-node Ray cluster on 127.0.0.1 owned by this process (Cluster.shutdown stops only its own)."""
    import threading

    from server.jobs.ray_executor import import_ray

    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    import_ray("127.0.0.1")
    from ray.cluster_utils import Cluster

    before = set(_children(os.getpid()))
    node = {"node_ip_address": "127.0.0.1", "num_cpus": 1, "object_store_memory": 100 * 2**20}
    cluster = Cluster(initialize_head=True, connect=False, head_node_args={
        **node, "include_dashboard": False, "_system_config": RAY_SYSTEM_CONFIG})
    for _ in range(nodes - 1):
        cluster.add_node(**node)
    RAY_ROOTS[:] = [c for c in _children(os.getpid()) if c not in before]
    threading.Thread(target=_sample_ray, daemon=True).start()
    return cluster


def _sample_ray() -> None:
    """Every 0.25 s: the CPU s of every live Ray process (a worker that exits keeps its last reading)."""
    while True:
        todo = list(RAY_ROOTS)
        while todo:
            pid = todo.pop()
            f = _stat(pid)
            if f is not None:
                RAY_SEEN[pid] = (int(f[11]) + int(f[12])) / CLK
                todo += _children(pid)
        time.sleep(0.25)


def cpu_seconds(pid: int) -> dict:
    """{"server": its own CPU s, "workers": live descendants' CPU s + what was reaped (cutime + cstime)}."""
    f = _stat(pid)
    if f is None:
        return {"server": 0.0, "workers": 0.0}
    server = (int(f[11]) + int(f[12])) / CLK           # utime, stime
    workers = (int(f[13]) + int(f[14])) / CLK          # cutime, cstime: children already waited for
    workers += sum(RAY_SEEN.values())   # --ray-nodes: every Ray process's CPU
    todo = _children(pid)
    while todo:
        child = todo.pop()
        g = _stat(child)
        if g is not None:
            workers += (int(g[11]) + int(g[12])) / CLK
            todo += _children(child)
    return {"server": server, "workers": workers}


def cpu_by_niceness(pid: int) -> dict[int, float]:
    """CPU s of the server's live descendants by niceness: the pool processes run at 5, heavy workers at 15
    (the heavy jobs' share of the machine while the class runs; reaped children are not counted)."""
    out: dict[int, float] = {}
    todo = _children(pid)
    while todo:
        child = todo.pop()
        g = _stat(child)
        if g is not None:
            nice = int(g[16])                                # field 19: nice
            out[nice] = out.get(nice, 0.0) + (int(g[11]) + int(g[12])) / CLK
            todo += _children(child)
    return out


# -- one student ---------------------------------------------------------------------------------------

async def student(http: httpx.AsyncClient, ws_base: str, spec: dict) -> dict:
    t0 = time.perf_counter()
    r = await http.post("/api/jobs", json=spec)
    if r.status_code != 201 and r.status_code != 200:
        return {"refused": r.status_code, "detail": r.text[:200]}
    job_id = r.json()["id"]
    first_epoch = first_boundary = None
    epochs = boundaries = 0
    end = None
    async with connect(f"{ws_base}/ws/jobs/{job_id}", max_size=None) as ws:
        async for raw in ws:
            now = time.perf_counter()
            m = json.loads(raw)
            kind = m.get("type")
            if kind == "epoch":
                epochs += 1
                if first_epoch is None:
                    first_epoch = now
            elif kind == "boundary":
                if first_boundary is None:
                    first_boundary = now
                if first_epoch is not None:
                    boundaries += 1
            elif kind in ("done", "error"):
                end = now
                break
    job = (await http.get(f"/api/jobs/{job_id}")).json()
    run = (end - first_epoch) if first_epoch is not None and end is not None else None
    return {"job_id": job_id, "status": job["status"],
            "first_epoch": None if first_epoch is None else first_epoch - t0,
            "first_boundary": None if first_boundary is None else first_boundary - t0,
            "epochs": epochs, "boundaries": boundaries,
            "epochs_per_s": (epochs - 1) / run if run else None,
            "boundaries_per_s": boundaries / run if run else None,
            "queue_wait": (job["started_at"] - job["created_at"]) if job.get("started_at") else None}


def pct(values: list[float], q: float) -> float | None:
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def summarise(label: str, results: list[dict], cpu: dict, seconds: float) -> dict:
    ok = [r for r in results if "refused" not in r]
    row = {"label": label, "students": len(results), "refused": len(results) - len(ok),
           "completed": sum(r["status"] == "completed" for r in ok), "wall_s": seconds, "cpu": cpu}
    for key in ("first_epoch", "first_boundary", "epochs_per_s", "boundaries_per_s", "queue_wait"):
        values = [r[key] for r in ok]
        row[key] = {"p50": pct(values, 0.5), "p95": pct(values, 0.95), "max": pct(values, 1.0),
                    "min": pct(values, 0.0)}
    epochs = sum(r["epochs"] for r in ok)
    row["epochs_total"] = epochs
    row["cpu_ms_per_epoch"] = {k: 1000 * v / epochs if epochs else None for k, v in cpu.items()}
    return row


async def run_class(url: str, n: int, epochs: int, seed0: int) -> list[dict]:
    ws_base = url.replace("http://", "ws://")
    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=n + 10)
    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as http:
        return await asyncio.gather(*(student(http, ws_base, playground_spec(epochs, seed0 + i)) for i in range(n)))


async def heavy_scenario(url: str, n: int, epochs: int, limit: int, pid: int, cap: float) -> tuple[list[dict], dict]:
    """Two MNIST CNN jobs train; once both run, `n` students press Play. Returns the students and the MNIST progress.
    When the class has not finished after `cap` seconds (its jobs wait behind the MNIST ones), the MNIST jobs are
    cancelled so the class can run, and the result says so (`starved_after_s`)."""
    async with httpx.AsyncClient(base_url=url, timeout=600) as http:
        heavy = []
        for _ in range(2):
            r = await http.post("/api/jobs", json=mnist_spec(limit))
            r.raise_for_status()
            heavy.append(r.json()["id"])
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            states = [(await http.get(f"/api/jobs/{j}")).json() for j in heavy]
            if all(s["status"] == "running" and s["epoch"] >= 1 for s in states):
                break
            await asyncio.sleep(0.5)
        before = {j: ((await http.get(f"/api/jobs/{j}")).json(), time.perf_counter()) for j in heavy}
        c0, n0, t0 = cpu_seconds(pid), cpu_by_niceness(pid), time.perf_counter()
        task = asyncio.ensure_future(run_class(url, n, epochs, 1000))
        done, _ = await asyncio.wait([task], timeout=cap)
        starved = not done
        if starved:   # the students are still queued behind the MNIST jobs: stop those, then let the class finish
            for j in heavy:
                await http.post(f"/api/jobs/{j}/cancel")
        students = await task
        c1, n1, t1 = cpu_seconds(pid), cpu_by_niceness(pid), time.perf_counter()
        by_nice = {k: n1.get(k, 0.0) - n0.get(k, 0.0) for k in n1}
        progress = {}
        for j in heavy:
            after = (await http.get(f"/api/jobs/{j}")).json()
            done = after["epoch"] - before[j][0]["epoch"]
            progress[j] = {"status_before": before[j][0]["status"], "status_after": after["status"], "epochs_during": done,
                           "epochs_per_min": 60 * done / (t1 - t0), "images_per_s": done * limit / (t1 - t0)}
            await http.post(f"/api/jobs/{j}/cancel")
    cpu = {k: c1[k] - c0[k] for k in c0}
    return students, {"jobs": progress, "cpu": cpu, "seconds": t1 - t0, "starved_after_s": cap if starved else None,
                      "cpu_by_niceness": by_nice}


# -- report --------------------------------------------------------------------------------------------

def fmt(v, digits=2) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def table(rows: list[dict]) -> str:
    head = ["students", "refused (429)", "first epoch s p50 / p95", "first boundary s p50 / p95",
            "epochs/s p50 / p5", "boundary frames/s p50 / p5", "queue wait s p50 / max",
            "CPU s server / workers", "CPU ms per epoch server / workers"]
    out = []
    for r in rows:
        eps, bps = r["epochs_per_s"], r["boundaries_per_s"]
        out.append([r["label"], str(r["refused"]),
                    f"{fmt(r['first_epoch']['p50'])} / {fmt(r['first_epoch']['p95'])}",
                    f"{fmt(r['first_boundary']['p50'])} / {fmt(r['first_boundary']['p95'])}",
                    f"{fmt(eps['p50'], 1)} / {fmt(pct_low(r, 'epochs_per_s'), 1)}",
                    f"{fmt(bps['p50'], 1)} / {fmt(pct_low(r, 'boundaries_per_s'), 1)}",
                    f"{fmt(r['queue_wait']['p50'])} / {fmt(r['queue_wait']['max'])}",
                    f"{r['cpu']['server']:.1f} / {r['cpu']['workers']:.1f}",
                    f"{fmt(r['cpu_ms_per_epoch']['server'])} / {fmt(r['cpu_ms_per_epoch']['workers'])}"])
    return common.format_table(head, out)


def pct_low(row: dict, key: str):
    return row.get("_low", {}).get(key)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", default="1,5,10,20,30,60", help="class sizes, comma-separated")
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--heavy", action="store_true", help="also: 2 MNIST CNN jobs + --heavy-students sessions")
    parser.add_argument("--heavy-only", action="store_true", help="only the heavy + light scenario")
    parser.add_argument("--heavy-students", type=int, default=20)
    parser.add_argument("--mnist-limit", type=int, default=10_000)
    parser.add_argument("--heavy-cap", type=float, default=120.0,
                        help="seconds the class may wait behind the MNIST jobs before those are cancelled")
    parser.add_argument("--mnist-dir", type=Path, default=None)
    parser.add_argument("--serve-arg", action="append", default=[], help="extra `nnplay serve` argument (repeat)")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server (repeat)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--repo", type=Path, default=REPO, help="serve this checkout (a baseline tree)")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile the server, stats to this file")
    parser.add_argument("--ray-nodes", type=int, default=0,
                        help="run the jobs on a Ray cluster of this many nodes on 127.0.0.1 (started here)")
    args = parser.parse_args()
    cluster = start_ray_cluster(args.ray_nodes) if args.ray_nodes else None
    if cluster is not None:
        atexit.register(cluster.shutdown)   # after the server has stopped, even when the run failed
        args.serve_arg += ["--executor", "ray", "--ray-address", cluster.address]
    env = dict(e.split("=", 1) for e in args.env)
    if args.heavy or args.heavy_only:
        env.setdefault("MNIST_DIR", str(common.mnist_dir(args.mnist_dir)))
    sizes = [] if args.heavy_only else [int(s) for s in args.students.split(",") if s]
    home = Path(tempfile.mkdtemp(prefix="nnplay-classroom-"))
    proc, url = start_server(args.serve_arg, env, home, args.repo.resolve(), args.profile)
    rows, heavy = [], None
    try:
        health = httpx.get(f"{url}/api/health").json()
        print(f"server {url} (home {home}); serve args {args.serve_arg or 'default'}; env {env or 'default'}")
        print(f"health: {json.dumps(health)[:300]}")
        print(f"serving {args.repo.resolve()}; engine at {common.engine_version()}; {os.cpu_count()} CPUs; "
              f"load average {common.load_average()}")
        asyncio.run(run_class(url, 1, 5, 999))   # warm the server's imports (first request, first job)
        for i, n in enumerate(sizes):
            c0, t0 = cpu_seconds(proc.pid), time.perf_counter()
            results = asyncio.run(run_class(url, n, args.epochs, 100 * i))
            c1, t1 = cpu_seconds(proc.pid), time.perf_counter()
            row = summarise(str(n), results, {k: c1[k] - c0[k] for k in c0}, t1 - t0)
            row["_low"] = {k: pct([r[k] for r in results if "refused" not in r], 0.05)
                           for k in ("epochs_per_s", "boundaries_per_s")}
            rows.append(row)
            print(f"N={n}: {t1 - t0:.1f} s, load average {common.load_average()}", flush=True)
            print(table([row]), flush=True)
        if args.heavy or args.heavy_only:
            students, heavy = asyncio.run(heavy_scenario(url, args.heavy_students, args.epochs,
                                                         args.mnist_limit, proc.pid, args.heavy_cap))
            row = summarise(f"{args.heavy_students} + 2 MNIST CNN", students, heavy["cpu"], heavy["seconds"])
            row["_low"] = {k: pct([r[k] for r in students if "refused" not in r], 0.05)
                           for k in ("epochs_per_s", "boundaries_per_s")}
            rows.append(row)
            print(f"heavy + light: load average {common.load_average()}"
                  + (f"; the class was still waiting after {heavy['starved_after_s']:g} s: the MNIST jobs were "
                     f"cancelled to let it run" if heavy["starved_after_s"] else ""))
            shares = ", ".join(f"nice {k}: {v:.1f} s ({v / heavy['seconds']:.2f} cores)"
                               for k, v in sorted(heavy["cpu_by_niceness"].items()))
            print(f"  workers' CPU while the class ran, by niceness (pool 5, heavy 15): {shares}")
            for j, p in heavy["jobs"].items():
                print(f"  MNIST job {j}: {p['epochs_during']} epochs in {heavy['seconds']:.1f} s "
                      f"({p['epochs_per_min']:.1f}/min, {p['images_per_s']:.0f} images/s)")
    finally:
        if args.profile:
            proc.send_signal(signal.SIGUSR1)   # profile_serve.py writes its stats
            time.sleep(2)
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    print()
    print(f"load average after: {common.load_average()}")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "heavy": heavy, "serve_args": args.serve_arg, "env": env,
                                         "engine": common.engine_version()}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
