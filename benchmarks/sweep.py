"""Random search against grid search, the lectures' comparison: the same budget of trials over learning rate x
L2, a few epochs per trial; which finds the better model, and what the sweep costs.

Usage: python benchmarks/sweep.py [--task spiral|mnist] [--trials 9] [--epochs 20] [--repeats 5] [--threads 1]
                                  [--server]

- Both sweeps are planned by engine.sweeps.plan_sweep from the same body (method random or grid, seed = the
  repeat): learning rate log_uniform 1e-4..1e-1, L2 log_uniform 1e-5..1. Grid: 3 x 3 log-spaced points for 9
  trials; random: 9 draws of each, so 9 distinct learning rates instead of 3.
- Each repeat uses another training seed (starting weights, batches) for both methods, and random search also
  another sweep seed; the trials of the two methods are trained interleaved, one of each in turn, by
  engine.train in this process (float32, no frames), so load on the shared machine hits both alike.
- spiral: the /sweeps page's default base (engine.sweeps.DEFAULT_BASE: 300 points, 16-16 tanh, Adam, batch 10).
  mnist: the first `--limit` training images, flattened, 784-64-10 relu, Adam, batch 64, metric test_accuracy on
  the official 10k test images.
- `--server`: also runs both sweeps through a real `nnplay serve` (127.0.0.1, a fresh home, 2 workers,
  max_parallel 2) and reports the wall time from POST /api/sweeps to the last trial's end.
Prints, per method: best metric per repeat, mean, the learning rates it tried, CPU and wall seconds.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import common

common.set_threads_from_argv()   # before numpy loads

import engine  # noqa: E402
from engine.sweeps import DEFAULT_BASE, plan_sweep  # noqa: E402

LR = "training.optimizer.learning_rate"
L2 = "training.regularization.l2"
PARAMETERS = {LR: {"distribution": "log_uniform", "min": 1e-4, "max": 1e-1},
              L2: {"distribution": "log_uniform", "min": 1e-5, "max": 1.0}}


def base_spec(task: str, epochs: int, limit: int, mnist_dir) -> dict:
    if task == "spiral":
        spec = copy.deepcopy(DEFAULT_BASE)
    else:
        spec = {"dataset": {"name": "mnist", "path": str(mnist_dir), "limit": limit, "flatten": True},
                "model": {"layers": [{"type": "dense", "units": 64, "activation": "relu"},
                                     {"type": "dense", "units": 10, "activation": "softmax"}],
                          "loss": "categorical_crossentropy"},
                "training": {"optimizer": {"name": "adam", "learning_rate": 0.001}, "batch_size": 64}}
    spec["training"]["epochs"] = epochs
    spec["stream"] = {"boundary": False, "histograms": False}
    return spec


def sweep_body(base: dict, method: str, trials: int, seed: int) -> dict:
    return {"base": base, "method": method, "parameters": PARAMETERS, "n_trials": trials, "seed": seed,
            "metric": "test_accuracy", "goal": "maximize"}


def run_engine(base: dict, trials: int, repeats: int) -> dict:
    out = {m: {"best": [], "cpu": 0.0, "wall": 0.0, "lrs": []} for m in ("random", "grid")}
    for rep in range(repeats):
        spec = copy.deepcopy(base)
        spec["training"]["seed"] = rep
        plans = {m: plan_sweep(sweep_body(spec, m, trials, rep))[1] for m in out}
        best = {m: float("-inf") for m in out}
        for i in range(trials):
            for m in out:            # interleaved: one trial of each method in turn
                if i >= len(plans[m]):
                    continue
                t0, c0 = time.perf_counter(), time.process_time()
                result = engine.train(plans[m][i].spec, normalized=True)
                out[m]["wall"] += time.perf_counter() - t0
                out[m]["cpu"] += time.process_time() - c0
                best[m] = max(best[m], max(r["test_accuracy"] for r in result.history))
        for m in out:
            out[m]["best"].append(best[m])
            out[m]["lrs"].append(len({t.params[LR] for t in plans[m]}))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data, {"content-type": "application/json"} if data else {})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)


def run_server(base: dict, trials: int) -> dict:
    """Both sweeps through a real server, one after the other: wall seconds from POST to the sweep's end."""
    port = free_port()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "NNPLAY_HOME": home, "NNPLAY_WORKERS_JOBS": "2"}
        proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port)], env=env,
                                cwd=common.REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    call(f"{url}/api/health")
                    break
                except OSError:
                    time.sleep(0.1)
            out = {}
            for method in ("random", "grid"):
                body = sweep_body(base, method, trials, 0) | {"max_parallel": 2}
                t0 = time.perf_counter()
                sweep = call(f"{url}/api/sweeps", body)
                while (sweep := call(f"{url}/api/sweeps/{sweep['id']}"))["status"] == "running":
                    time.sleep(0.2)
                out[method] = {"wall": time.perf_counter() - t0, "best": sweep["best"]["best"]["value"]}
            return out
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", choices=("spiral", "mnist"), default="spiral")
    parser.add_argument("--trials", type=int, default=9)
    parser.add_argument("--epochs", type=int, default=None, help="per trial (spiral 20, mnist 3)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--limit", type=int, default=5000, help="mnist: training images")
    parser.add_argument("--mnist-dir", default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--server", action="store_true", help="also time both sweeps through nnplay serve")
    parser.add_argument("--lr-max", type=float, default=1e-1, help="top of the learning-rate range (1e-4 .. this)")
    parser.add_argument("--l2-max", type=float, default=1.0, help="top of the L2 range (1e-5 .. this); small = the "
                                                                   "lectures' case of one setting that hardly matters")
    args = parser.parse_args()
    PARAMETERS[LR]["max"], PARAMETERS[L2]["max"] = args.lr_max, args.l2_max
    epochs = args.epochs or (20 if args.task == "spiral" else 3)
    mnist_dir = common.mnist_dir(args.mnist_dir and common.Path(args.mnist_dir)) if args.task == "mnist" else None
    base = base_spec(args.task, epochs, args.limit, mnist_dir)
    load = os.getloadavg()[0]
    print(f"{args.task}: {args.trials} trials x {epochs} epochs per method, {args.repeats} repeats, learning rate "
          f"1e-4..{args.lr_max:g}, L2 1e-5..{args.l2_max:g}; "
          f"load average {load:.1f} at start")
    results = run_engine(base, args.trials, args.repeats)
    print(f"{'method':<8} {'best test accuracy per repeat':<44} {'mean':>6} {'lrs tried':>9} {'CPU s':>7} {'wall s':>7}")
    for m, r in results.items():
        per = " ".join(f"{v:.3f}" for v in r["best"])
        print(f"{m:<8} {per:<44} {statistics.mean(r['best']):>6.3f} {statistics.mean(r['lrs']):>9.0f} "
              f"{r['cpu']:>7.2f} {r['wall']:>7.2f}")
    wins = sum(a > b for a, b in zip(results["random"]["best"], results["grid"]["best"]))
    ties = sum(a == b for a, b in zip(results["random"]["best"], results["grid"]["best"]))
    print(f"random beat grid in {wins} of {args.repeats} repeats ({ties} ties); load average "
          f"{os.getloadavg()[0]:.1f} at the end")
    if args.server:
        served = run_server(base, args.trials)
        for m, r in served.items():
            print(f"server, {m}: best {r['best']:.3f}, {r['wall']:.2f} s wall from POST to the last trial's end "
                  f"(2 workers, max_parallel 2)")


if __name__ == "__main__":
    main()
