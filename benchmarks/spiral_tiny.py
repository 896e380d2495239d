"""Tiny network on the spiral: the engine against TensorFlow Playground's own nn.ts (under Node) and a bare NumPy loop.

Usage: python benchmarks/spiral_tiny.py [--rounds 5] [--epochs 40] [--threads 1] [--json OUT]

The playground's default setup for this row: 500 spiral points, half of them (250) for training, inputs
x1 and x2, a 2-8-8-1 tanh network, squared error, plain SGD with learning rate 0.03, batch 10, no
regularisation, no frames. One epoch is what the playground's oneStep() does: every training point
forward and backward, an update every 10 points, then the loss on all training and all test points.

- engine.train: dense 8 tanh > dense 8 tanh > dense 1 tanh, half_squared_error (the playground's
  0.5 * (out - target)^2), sgd 0.03, batch 10, float32, stream histograms and boundary off. Two times per
  epoch: the trainer's own record `seconds` (its steps plus the test evaluation) and the wall time from
  one epoch event to the next (adds what runs between epochs: probes, commands, stopping checks).
- TensorFlow Playground nn.ts: benchmarks/tfp_nn.js, a faithful port (Apache-2.0) run with `node` on the
  SAME 250 + 250 points (written to a temporary JSON file, labels -1 / +1 as the playground's); it times
  each epoch inside Node, so Node's start-up is not counted.
- bare NumPy loop: the same network and epoch written out in this file, float32, the way one writes it
  (bias adds, a per-batch loss, per-array updates);
- NumPy floor (fewest calls): the same epoch in about half the bare loop's NumPy calls (bias folded into the
  matmul, one flat parameter vector, slices of a once-permuted set, no per-batch loss): a floor for what
  NumPy's per-call overhead allows with batches of 10.

Runs are interleaved: each round trains every implementation for `--epochs` epochs from fresh weights,
and the table gives the median over all epochs of all rounds (the first epoch of each engine round also
holds the trainer's set-up, which the median discards) and the ratio of the medians.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common

common.set_threads_from_argv()   # before numpy loads

import numpy as np  # noqa: E402

import engine  # noqa: E402

HERE = Path(__file__).resolve().parent
SHAPE = (2, 8, 8, 1)
BATCH = 10
LEARNING_RATE = 0.03
DATASET = {"name": "spiral", "n_samples": 500, "noise": 0.0, "test_ratio": 0.5, "seed": 0}


def job_spec(epochs: int, seed: int) -> dict:
    layers = [{"type": "dense", "units": n, "activation": "tanh"} for n in SHAPE[1:]]
    return {"dataset": DATASET,
            "model": {"dtype": "float32", "loss": "half_squared_error", "layers": layers},
            "training": {"optimizer": {"name": "sgd", "learning_rate": LEARNING_RATE}, "batch_size": BATCH,
                         "epochs": epochs, "seed": seed},
            "stream": {"histograms": False, "boundary": False}}


def engine_round(epochs: int, seed: int) -> dict:
    """One engine.train run; per-epoch record seconds, event-to-event wall seconds and CPU seconds."""
    marks = [(time.perf_counter(), time.process_time())]

    def on_event(event: dict) -> None:
        if event["type"] == "epoch":
            marks.append((time.perf_counter(), time.process_time()))

    result = engine.train(job_spec(epochs, seed), on_event=on_event)
    wall = [b[0] - a[0] for a, b in zip(marks, marks[1:])][1:]    # epoch 1's slot holds the set-up: dropped
    cpu = [b[1] - a[1] for a, b in zip(marks, marks[1:])][1:]
    last = result.history[-1]
    return {"record": [r["seconds"] for r in result.history], "wall": wall, "cpu": cpu,
            "train_loss": last["train_loss"], "test_loss": last["test_loss"], "outcome": result.outcome}


# -- the bare NumPy loop ---------------------------------------------------------------------------

def bare_round(ds, epochs: int, seed: int) -> dict:
    """2-8-8-1 tanh, half squared error, SGD, batch 10, float32; per-epoch wall seconds."""
    rng = np.random.default_rng(seed)
    W = [rng.uniform(-0.5, 0.5, (a, b)).astype(np.float32) for a, b in zip(SHAPE[:-1], SHAPE[1:])]
    b = [np.full(n, 0.1, np.float32) for n in SHAPE[1:]]
    x, t = ds.x_train, ds.y_train.reshape(-1, 1).astype(np.float32)
    xt, tt = ds.x_test, ds.y_test.reshape(-1, 1).astype(np.float32)
    lr = np.float32(LEARNING_RATE)

    def forward(h):
        outs = [h]
        for w, c in zip(W, b):
            h = np.tanh(h @ w + c)                       # (N, a) @ (a, b)
            outs.append(h)
        return outs

    def loss(h, target):
        return float(0.5 * np.sum((h - target) ** 2) / len(h))

    wall, cpu = [], []
    for _ in range(epochs):
        start, c0 = time.perf_counter(), time.process_time()
        order = rng.permutation(len(x))
        for i in range(0, len(x), BATCH):
            idx = order[i:i + BATCH]
            outs = forward(x[idx])
            g = (outs[-1] - t[idx]) / np.float32(len(idx))            # d(loss)/d(out) (n, 1)
            for k in reversed(range(len(W))):
                g = g * (1 - outs[k + 1] * outs[k + 1])                # through tanh
                gw, gb = outs[k].T @ g, g.sum(axis=0)
                if k:
                    g = g @ W[k].T
                W[k] -= lr * gw
                b[k] -= lr * gb
        losses = loss(forward(x)[-1], t), loss(forward(xt)[-1], tt)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - c0)
    return {"wall": wall, "cpu": cpu, "train_loss": losses[0], "test_loss": losses[1]}


def floor_round(ds, epochs: int, seed: int) -> dict:
    """The same epoch in the fewest NumPy calls we know: a floor for any NumPy engine with batches of 10.

    Each layer's weights and bias are one (a+1, b) array fed by inputs with a column of ones, so the bias
    rides in the matmul (forward: matmul + tanh into a preallocated buffer; backward: one matmul gives W's and
    b's gradient); every parameter and gradient lives in one flat vector (the update is two calls); the
    training set is permuted once per epoch and batches are slices; no per-batch loss (the epoch's losses are
    computed at the end, as nn.ts does). About 20 NumPy calls per batch against the bare loop's ~40.
    """
    rng = np.random.default_rng(seed)
    shapes = [(a + 1, b) for a, b in zip(SHAPE[:-1], SHAPE[1:])]
    sizes = [a * b for a, b in shapes]
    flat, gflat = np.empty(sum(sizes), np.float32), np.zeros(sum(sizes), np.float32)
    starts = np.cumsum([0] + sizes)
    W = [flat[s:s + n].reshape(sh) for s, n, sh in zip(starts, sizes, shapes)]
    G = [gflat[s:s + n].reshape(sh) for s, n, sh in zip(starts, sizes, shapes)]
    for w, (a, b) in zip(W, zip(SHAPE[:-1], SHAPE[1:])):
        w[:-1] = rng.uniform(-0.5, 0.5, (a, b))
        w[-1] = 0.1
    n_train = len(ds.x_train)
    x1 = np.ones((n_train, SHAPE[0] + 1), np.float32)                  # inputs with a ones column
    t = ds.y_train.reshape(-1, 1).astype(np.float32)
    # per-batch activations, each with its ones column: h[k] is (BATCH, SHAPE[k] + 1)
    h = [np.ones((BATCH, n + 1), np.float32) for n in SHAPE]
    d = [np.empty((BATCH, n), np.float32) for n in SHAPE]
    tmp = [np.empty((BATCH, n), np.float32) for n in SHAPE]
    step = np.empty_like(gflat)
    lr = np.float32(LEARNING_RATE / BATCH)      # the mean over the batch folded into the step

    def predict(x):
        a = x
        for w in W:
            a = np.tanh(a @ w[:-1] + w[-1])
        return a

    def loss(out, target):
        return float(0.5 * np.sum((out - target) ** 2) / len(out))

    wall, cpu = [], []
    last = len(W) - 1
    for _ in range(epochs):
        start, c0 = time.perf_counter(), time.process_time()
        order = rng.permutation(n_train)
        x1[:, :-1] = ds.x_train[order]
        ts = t[order]
        for i in range(0, n_train - BATCH + 1, BATCH):   # 250 points: 25 full batches
            h[0] = x1[i:i + BATCH]
            for k, w in enumerate(W):
                np.tanh(h[k] @ w, out=h[k + 1][:, :-1])
            g = np.subtract(h[-1][:, :-1], ts[i:i + BATCH], out=d[-1])        # (B, 1)
            for k in range(last, -1, -1):
                y = h[k + 1][:, :-1]
                np.multiply(y, y, out=tmp[k + 1])
                np.subtract(1, tmp[k + 1], out=tmp[k + 1])
                np.multiply(g, tmp[k + 1], out=g)                              # through tanh
                np.matmul(h[k].T, g, out=G[k])                                 # W's and b's gradient at once
                if k:
                    g = np.matmul(g, W[k][:-1].T, out=d[k])
            np.multiply(gflat, lr, out=step)
            flat -= step
        losses = loss(predict(ds.x_train), t), loss(predict(ds.x_test), ds.y_test.reshape(-1, 1))
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - c0)
    return {"wall": wall, "cpu": cpu, "train_loss": losses[0], "test_loss": losses[1]}


# -- TensorFlow Playground's nn.ts under Node ------------------------------------------------------------

def write_points(ds, path: Path, epochs: int, seed: int) -> None:
    """The engine's own train / test points, labels 0/1 -> -1/+1 as in the playground."""
    def rows(x, y):
        return [[float(a), float(c), 2.0 * float(label) - 1.0] for (a, c), label in zip(x, y)]
    path.write_text(json.dumps({"train": rows(ds.x_train, ds.y_train), "test": rows(ds.x_test, ds.y_test),
                                "shape": list(SHAPE), "activation": "tanh", "epochs": epochs,
                                "batch_size": BATCH, "learning_rate": LEARNING_RATE, "regularization_rate": 0,
                                "seed": seed}))


def node_round(node: str, points: Path) -> dict:
    out = subprocess.run([node, str(HERE / "tfp_nn.js"), str(points)], capture_output=True, text=True,
                         check=True, timeout=600)
    r = json.loads(out.stdout)
    return {"wall": [ms / 1000 for ms in r["ms_per_epoch"]], "cpu": [ms / 1000 for ms in r["cpu_ms_per_epoch"]],
            "train_loss": r["train_loss"],
            "test_loss": r["test_loss"]}


# -- report ------------------------------------------------------------------------------------------

def main() -> None:
    parser = common.base_parser(__doc__.splitlines()[0], epochs=40)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this JSON file")
    args = parser.parse_args()
    ds = engine.load_dataset(DATASET)
    node = shutil.which("node")
    print(f"spiral {len(ds.x_train)} train / {len(ds.x_test)} test points, {'-'.join(map(str, SHAPE))} tanh, "
          f"squared error, SGD lr {LEARNING_RATE}, batch {BATCH}; {args.rounds} rounds x {args.epochs} epochs")
    for line in common.environment_lines():
        print(line)
    runs = {"engine.train": [], "bare NumPy loop": [], "NumPy floor (fewest calls)": [],
            "TensorFlow Playground nn.ts (Node)": []}
    with tempfile.TemporaryDirectory() as tmp:
        points = Path(tmp) / "spiral_points.json"
        write_points(ds, points, args.epochs, args.seed)
        for r in range(args.rounds):
            runs["engine.train"].append(engine_round(args.epochs, args.seed + r))
            runs["bare NumPy loop"].append(bare_round(ds, args.epochs, args.seed + r))
            runs["NumPy floor (fewest calls)"].append(floor_round(ds, args.epochs, args.seed + r))
            if node:
                runs["TensorFlow Playground nn.ts (Node)"].append(node_round(node, points))
    load_after = common.load_average()
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip() if node else ""
    results = summarise(runs, node, node_version)
    print(f"load average after: {load_after}")
    print()
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps({"row": "spiral", "load_after": load_after, "engine": common.engine_version(),
                                         "results": results}, indent=1))


def summarise(runs: dict, node: str | None, node_version: str) -> dict:
    """Median ms/epoch of each implementation (all epochs of all rounds) and the final losses of the last round."""
    out = {}
    for name, rounds in runs.items():
        if not rounds:
            out[name] = {"skipped": "node not found on PATH: skipped (install Node.js to run nn.ts)"}
            continue
        wall = [s for r in rounds for s in r["wall"]]
        entry = {"ms_per_epoch": 1000 * common.median(wall), "train_loss": rounds[-1]["train_loss"],
                 "test_loss": rounds[-1]["test_loss"]}
        if "record" in rounds[0]:
            entry["record_ms_per_epoch"] = 1000 * common.median([s for r in rounds for s in r["record"][1:]])
        if "cpu" in rounds[0]:
            entry["cpu_ms_per_epoch"] = 1000 * common.median([s for r in rounds for s in r["cpu"]])
        if name.startswith("TensorFlow"):
            entry["version"] = node_version
        out[name] = entry
    return out


def table(results: dict) -> str:
    node = results["TensorFlow Playground nn.ts (Node)"]
    base, cpu_base = node.get("ms_per_epoch"), node.get("cpu_ms_per_epoch")
    rows = []
    for name, r in results.items():
        if "skipped" in r:
            rows.append([name, r["skipped"], "", "", "", "", "", ""])
            continue
        ratio = f"{r['ms_per_epoch'] / base:.2f}x" if base else "n/a"
        cpu_ratio = f"{r['cpu_ms_per_epoch'] / cpu_base:.2f}x" if cpu_base else "n/a"
        rows.append([name + (f" {r['version']}" if "version" in r else ""), f"{r['ms_per_epoch']:.2f}",
                     f"{r['record_ms_per_epoch']:.2f}" if "record_ms_per_epoch" in r else "",
                     ratio, f"{r['cpu_ms_per_epoch']:.2f}", cpu_ratio,
                     f"{r['train_loss']:.4f}", f"{r['test_loss']:.4f}"])
    return common.format_table(["implementation", "ms/epoch (median, wall)", "engine record ms/epoch",
                                "ratio to nn.ts", "CPU ms/epoch", "CPU ratio", "train loss", "test loss"], rows)


if __name__ == "__main__":
    main()
