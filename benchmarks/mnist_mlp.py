"""MNIST 784-256-128-10 ReLU MLP: the engine's trainer against a bare NumPy loop (and PyTorch if installed).

Usage: python benchmarks/mnist_mlp.py [--mnist-dir DIR] [--epochs 5] [--limit N] [--threads N] [--seed 0] [--json OUT]

Every implementation trains the same network (glorot_uniform kernels, zero biases, softmax +
categorical cross-entropy), with Adam (lr 1e-3, Keras betas and epsilon 1e-7), batch 128, float32,
on the same data in the same process. The bare loop's epochs are interleaved with the engine's (one
after each engine epoch, from the trainer's epoch event) so both see the same machine load. An epoch's
time covers shuffling, every forward/backward/update step, the running train loss and accuracy, and
the end-of-epoch test-set evaluation: the work the engine's epoch record `seconds` measures.
Prints a markdown table with the median s/epoch.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import common

common.set_threads_from_argv()   # before numpy loads

import numpy as np  # noqa: E402

import engine  # noqa: E402

SIZES = (784, 256, 128, 10)
LEARNING_RATE, BETA_1, BETA_2, EPSILON = 1e-3, 0.9, 0.999, 1e-7
BATCH = 128
EVAL_BATCH = 4096     # the engine's PREDICT_BATCH


def job_spec(folder, args) -> dict:
    hidden = [{"type": "dense", "units": n, "activation": "relu"} for n in SIZES[1:-1]]
    return {
        "dataset": {"name": "mnist", "path": str(folder), "flatten": True, "limit": args.limit, "download": False},
        "model": {"dtype": "float32", "loss": "categorical_crossentropy",
                  "layers": hidden + [{"type": "dense", "units": SIZES[-1], "activation": "softmax"}]},
        "training": {"optimizer": {"name": "adam", "learning_rate": LEARNING_RATE, "beta_1": BETA_1,
                                   "beta_2": BETA_2, "epsilon": EPSILON},
                     "batch_size": BATCH, "epochs": args.epochs, "seed": args.seed},
        "stream": {"histograms": False, "boundary": False},
    }


# -- the bare NumPy loop ---------------------------------------------------------------------------

def glorot_uniform(rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, (n_in, n_out)).astype(np.float32)   # drawn in float64, as the engine


class BareMLP:
    """ReLU MLP with a softmax output; weights (n_in, n_out) float32."""

    def __init__(self, sizes, rng: np.random.Generator):
        self.W = [glorot_uniform(rng, a, b) for a, b in zip(sizes[:-1], sizes[1:])]
        self.b = [np.zeros(b, np.float32) for b in sizes[1:]]

    def logits(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """(N, 784) -> (N, 10) scores, plus the input of every layer (for backward)."""
        inputs, h = [], x
        for i, (w, b) in enumerate(zip(self.W, self.b)):
            inputs.append(h)
            z = h @ w + b                      # (N, n_in) @ (n_in, n_out)
            h = np.maximum(z, 0) if i < len(self.W) - 1 else z
        return h, inputs

    def backward(self, gz: np.ndarray, inputs: list[np.ndarray]) -> tuple[list, list]:
        """gz = d(loss)/d(logits) (N, 10) -> (dW, db); no gradient for the data itself."""
        dW, db = [None] * len(self.W), [None] * len(self.W)
        for i in reversed(range(len(self.W))):
            dW[i] = inputs[i].T @ gz           # (n_in, N) @ (N, n_out)
            db[i] = gz.sum(axis=0)
            if i > 0:
                gz = (gz @ self.W[i].T) * (inputs[i] > 0)   # relu'(z) from its output
        return dW, db


class BareAdam:
    """Keras Adam: m, v moving averages, bias correction folded into the step size."""

    def __init__(self, params: list[np.ndarray]):
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        self.t += 1
        alpha = np.float32(LEARNING_RATE * np.sqrt(1 - BETA_2 ** self.t) / (1 - BETA_1 ** self.t))
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m += (1 - BETA_1) * (g - m)
            v += (1 - BETA_2) * (g * g - v)
            p -= alpha * m / (np.sqrt(v) + np.float32(EPSILON))


def softmax_xent(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of logits z (N, K) against integer labels y (N,), and d(loss)/dz."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    loss = float(np.mean(np.log(s[:, 0]) - z[rows, y]))
    g = e / s
    g[rows, y] -= 1
    return loss, g / np.float32(len(y))


def evaluate_bare(net: BareMLP, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    losses, correct = 0.0, 0
    for i in range(0, len(x), EVAL_BATCH):
        z, _ = net.logits(x[i:i + EVAL_BATCH])
        loss, _ = softmax_xent(z, y[i:i + EVAL_BATCH])
        losses += loss * len(z)
        correct += int((z.argmax(axis=1) == y[i:i + EVAL_BATCH]).sum())
    return losses / len(x), correct / len(x)


def bare_epochs(ds, epochs: int, seed: int):
    """Train the bare loop one epoch per next(); yields (wall seconds, CPU seconds, test accuracy)."""
    rng = np.random.default_rng(seed)          # same draws as the engine: weights, then one permutation per epoch
    net = BareMLP(SIZES, rng)
    adam = BareAdam(net.W + net.b)
    x, y = ds.x_train, ds.y_train
    for _ in range(epochs):
        start, cpu = time.perf_counter(), time.process_time()
        order = rng.permutation(len(x))
        loss_sum, correct = 0.0, 0
        for b in range(0, len(x), BATCH):
            idx = order[b:b + BATCH]
            xb, yb = x[idx], y[idx]
            z, inputs = net.logits(xb)
            loss, gz = softmax_xent(z, yb)
            dW, db = net.backward(gz, inputs)
            adam.step(net.W + net.b, dW + db)
            loss_sum += loss * len(idx)
            correct += int((z.argmax(axis=1) == yb).sum())
        _, acc = evaluate_bare(net, ds.x_test, ds.y_test)
        yield time.perf_counter() - start, time.process_time() - cpu, acc


def run_side_by_side(spec: dict, others: dict) -> dict:
    """engine.train, with one epoch of every other implementation (generators yielding (wall s, CPU s,
    accuracy)) run after each engine epoch, outside the engine's timing, so all see the same machine load
    even when other jobs come and go.

    The engine's wall time is its own epoch record `seconds`; its CPU time is the process CPU time between
    epoch events minus the others' (so epoch 1 also holds the trainer's setup: dataset scaling, model build).
    """
    timings = {name: {"seconds": [], "cpu": [], "accuracy": float("nan")} for name in others}
    engine_cpu, mark = [], [time.process_time()]

    def on_event(event: dict) -> None:
        if event["type"] != "epoch":
            return
        engine_cpu.append(time.process_time() - mark[0])
        for name, epochs in others.items():
            seconds, cpu, timings[name]["accuracy"] = next(epochs)
            timings[name]["seconds"].append(seconds)
            timings[name]["cpu"].append(cpu)
        mark[0] = time.process_time()

    result = engine.train(spec, on_event=on_event)
    if result.outcome != "completed":
        sys.exit(f"engine training ended with {result.outcome}: {result.message}")
    return {"model": result.model,   # the trained model, for callers that time its layers
            "engine.train": {"seconds": [r["seconds"] for r in result.history], "cpu": engine_cpu,
                             "accuracy": result.history[-1]["test_accuracy"]}, **timings}


# -- PyTorch, when installed -------------------------------------------------------------------------

def torch_epochs(torch, ds, epochs: int, seed: int, threads: int | None):
    """The same network and loop in PyTorch; yields (wall seconds, CPU seconds, test accuracy) per epoch."""
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        lin = torch.nn.Linear(a, b)
        torch.nn.init.xavier_uniform_(lin.weight)
        torch.nn.init.zeros_(lin.bias)
        layers += [lin] + ([torch.nn.ReLU()] if i < len(SIZES) - 2 else [])
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE, betas=(BETA_1, BETA_2), eps=EPSILON)
    x, y = torch.from_numpy(ds.x_train), torch.from_numpy(ds.y_train)
    xt, yt = torch.from_numpy(ds.x_test), torch.from_numpy(ds.y_test)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        start, cpu = time.perf_counter(), time.process_time()
        order = torch.randperm(len(x), generator=gen)
        for b in range(0, len(x), BATCH):
            idx = order[b:b + BATCH]
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(net(x[idx]), y[idx])
            loss.backward()
            opt.step()
        with torch.no_grad():
            acc = float((net(xt).argmax(dim=1) == yt).float().mean())
        yield time.perf_counter() - start, time.process_time() - cpu, acc


# -- report ------------------------------------------------------------------------------------------

def paired_ratio(values: list[float], base: list[float]) -> float:
    """Median over epochs of value / base for the same epoch: cancels load that changes between epochs."""
    return common.median([v / b for v, b in zip(values, base)])


def table(results: dict) -> str:
    """Wall and CPU s/epoch (each implementation's own median) and the paired ratios to the bare loop."""
    base = results["bare NumPy loop"]
    rows = []
    for name, r in results.items():
        if isinstance(r, str):
            rows.append([name, r, "", "", "", ""])
            continue
        rows.append([name, f"{common.median(r['seconds']):.3f}", f"{100 * r['accuracy']:.2f}%",
                     f"{paired_ratio(r['seconds'], base['seconds']):.2f}x", f"{common.median(r['cpu']):.3f}",
                     f"{paired_ratio(r['cpu'], base['cpu']):.2f}x"])
    return common.format_table(["implementation", "s/epoch (median)", "test accuracy", "ratio to bare loop",
                                "CPU s/epoch (median)", "CPU ratio"], rows)


def main() -> None:
    parser = common.base_parser(__doc__.splitlines()[0], epochs=5)
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this JSON file")
    args = parser.parse_args()
    common.apply_engine_threads(args.threads)
    folder = common.mnist_dir(args.mnist_dir)
    spec = job_spec(folder, args)
    ds = engine.load_dataset(spec["dataset"])
    print(f"MNIST MLP {'-'.join(map(str, SIZES))} relu, Adam lr {LEARNING_RATE:g}, batch {BATCH}, float32, "
          f"{args.epochs} epochs; {len(ds.x_train)} training / {len(ds.x_test)} test images from {folder}")
    for line in common.environment_lines():
        print(line)
    others = {"bare NumPy loop": bare_epochs(ds, args.epochs, args.seed)}
    try:
        import torch
        others["PyTorch"] = torch_epochs(torch, ds, args.epochs, args.seed, args.threads)
    except ImportError:
        torch = None
    load_before = common.load_average()
    results = run_side_by_side(spec, others)
    results.pop("model")
    if torch is None:
        results["PyTorch"] = "not installed (import torch failed): skipped"
    for name, r in results.items():
        if not isinstance(r, str):
            print(f"{name}: s per epoch " + " ".join(f"{s:.3f}" for s in r["seconds"])
                  + "; CPU s " + " ".join(f"{s:.3f}" for s in r["cpu"]))
    engine_r, bare_r = results["engine.train"], results["bare NumPy loop"]
    print("engine / bare, epoch by epoch: wall " + " ".join(f"{e / b:.2f}" for e, b in zip(engine_r["seconds"], bare_r["seconds"]))
          + "; CPU " + " ".join(f"{e / b:.2f}" for e, b in zip(engine_r["cpu"], bare_r["cpu"])))
    load_after = common.load_average()
    print(f"load average before: {load_before}; after: {load_after}")
    print()
    print(table(results))
    ratio, acc = paired_ratio(engine_r["seconds"], bare_r["seconds"]), engine_r["accuracy"]
    print()
    print(f"targets: engine within 1.25x of the bare loop: {'PASS' if ratio <= 1.25 else 'FAIL'} ({ratio:.2f}x); "
          f"test accuracy >= 96.5% after 5 epochs: {'PASS' if acc >= 0.965 else 'FAIL'} "
          f"({100 * acc:.2f}% after {args.epochs} epochs"
          f"{'' if args.limit is None else f', {args.limit} training images'})")
    if args.json:
        args.json.write_text(json.dumps({"row": "mlp", "threads": args.threads, "load_before": load_before,
                                         "load_after": load_after, "engine": common.engine_version(),
                                         "results": results}, indent=1))


if __name__ == "__main__":
    main()
