"""MNIST CNNs through engine.train next to PyTorch: seconds per epoch, test accuracy, where a batch's time goes.

Usage: python benchmarks/mnist_cnn.py [--model small|digit] [--batch N] [--epochs N] [--limit N] [--threads N]
                                      [--seed 0] [--no-torch] [--json OUT]

Models (float32, categorical cross-entropy, Adam lr 1e-3):
- small (batch 128): conv 8@3x3 relu -> maxpool 2 -> conv 16@3x3 relu -> maxpool 2 -> flatten -> dense 10
  softmax (valid padding, glorot_uniform kernels as Keras);
- digit (batch 64): the layers of the shipped digit model, engine/assets/digit_model.spec.json (conv 16 same >
  pool > conv 32 same > pool > dense 128 > dropout 0.3 > dense 10), without its augmentation and learning-rate
  schedule, which PyTorch would not share: the architecture's cost, not the recipe's.
The engine's s/epoch is the trainer's own epoch record `seconds` (training steps, running loss and accuracy,
the test-set evaluation). PyTorch, when `import torch` works, trains the same layers with the same batches
size, one epoch after each engine epoch (outside the engine's timing) so both share the machine's load.
After training, every engine layer's forward and backward is timed on a few batches.
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
from mnist_mlp import paired_ratio, run_side_by_side  # noqa: E402

LEARNING_RATE = 1e-3
SMALL_LAYERS = [
    {"type": "conv2d", "filters": 8, "kernel_size": 3, "activation": "relu"},
    {"type": "maxpool2d", "pool_size": 2},
    {"type": "conv2d", "filters": 16, "kernel_size": 3, "activation": "relu"},
    {"type": "maxpool2d", "pool_size": 2},
    {"type": "flatten"},
    {"type": "dense", "units": 10, "activation": "softmax"},
]
DIGIT_SPEC = common.REPO / "engine" / "assets" / "digit_model.spec.json"
MODELS = {   # name -> (layers, default batch, default epochs, description)
    "small": (lambda: SMALL_LAYERS, 128, 3, "small CNN conv8@3x3 > pool > conv16@3x3 > pool > dense10"),
    "digit": (lambda: json.loads(DIGIT_SPEC.read_text())["model"]["layers"], 64, 2,
              "digit model architecture conv16 same > pool > conv32 same > pool > dense128 > dropout 0.3 > dense10"),
}
PROFILE_BATCHES = 20


def job_spec(folder, args, layers: list[dict]) -> dict:
    return {
        "dataset": {"name": "mnist", "path": str(folder), "flatten": False, "limit": args.limit, "download": False},
        "model": {"dtype": "float32", "loss": "categorical_crossentropy", "layers": layers},
        "training": {"optimizer": {"name": "adam", "learning_rate": LEARNING_RATE},
                     "batch_size": args.batch, "epochs": args.epochs, "seed": args.seed},
        "stream": {"histograms": False, "boundary": False},
    }


# -- PyTorch, when installed -------------------------------------------------------------------------

def torch_model(torch, layers: list[dict], input_shape=(1, 28, 28)):
    """The engine's layer specs as a torch.nn.Sequential (softmax left to cross_entropy)."""
    nn, mods, shape = torch.nn, [], list(input_shape)
    for spec in layers:
        kind = spec["type"]
        if kind == "conv2d":
            pad = 1 if spec.get("padding") == "same" else 0
            conv = nn.Conv2d(shape[0], spec["filters"], spec["kernel_size"], padding=pad)
            init(torch, conv.weight, spec.get("kernel_initializer", "glorot_uniform"))
            nn.init.zeros_(conv.bias)
            mods.append(conv)
            shape = [spec["filters"]] + [d + 2 * pad - spec["kernel_size"] + 1 for d in shape[1:]]
        elif kind == "maxpool2d":
            mods.append(nn.MaxPool2d(spec["pool_size"]))
            shape = [shape[0]] + [d // spec["pool_size"] for d in shape[1:]]
        elif kind == "flatten":
            mods.append(nn.Flatten())
            shape = [int(np.prod(shape))]
        elif kind == "dense":
            lin = nn.Linear(shape[0], spec["units"])
            init(torch, lin.weight, spec.get("kernel_initializer", "glorot_uniform"))
            nn.init.zeros_(lin.bias)
            mods.append(lin)
            shape = [spec["units"]]
        elif kind == "dropout":
            mods.append(nn.Dropout(spec["rate"]))
        else:
            raise ValueError(f"no PyTorch translation for layer type {kind!r}")
        if spec.get("activation") == "relu":
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)


def init(torch, weight, name: str) -> None:
    """Keras' glorot_uniform / he_uniform on a torch weight (fan-in / fan-out as torch computes them)."""
    if name == "he_uniform":
        torch.nn.init.kaiming_uniform_(weight, nonlinearity="relu")   # limit sqrt(6 / fan_in), as Keras
    else:
        torch.nn.init.xavier_uniform_(weight)


def torch_epochs(torch, ds, layers, batch: int, epochs: int, seed: int, threads: int | None):
    """Yields (wall seconds, CPU seconds, test accuracy) per epoch: shuffle, steps with running loss and
    accuracy (as the engine keeps), test evaluation in chunks of 4096."""
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    net = torch_model(torch, layers)
    opt = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE, eps=1e-7)
    x, y = torch.from_numpy(ds.x_train), torch.from_numpy(ds.y_train)
    xt, yt = torch.from_numpy(ds.x_test), torch.from_numpy(ds.y_test)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        start, cpu = time.perf_counter(), time.process_time()
        net.train()
        order = torch.randperm(len(x), generator=gen)
        loss_sum, correct = 0.0, 0
        for b in range(0, len(x), batch):
            idx = order[b:b + batch]
            opt.zero_grad(set_to_none=True)
            out = net(x[idx])
            loss = torch.nn.functional.cross_entropy(out, y[idx])
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            correct += int((out.argmax(dim=1) == y[idx]).sum())
        net.eval()
        with torch.no_grad():
            hits = sum(int((net(xt[i:i + 4096]).argmax(dim=1) == yt[i:i + 4096]).sum())
                       for i in range(0, len(xt), 4096))
        yield time.perf_counter() - start, time.process_time() - cpu, hits / len(xt)


def layer_times(model, x: np.ndarray, batch: int) -> list[list[str]]:
    """Median ms per batch of each layer's forward (training mode) and backward, over up to PROFILE_BATCHES
    batches of the images x: wall clock and process CPU time (CPU time ignores waiting for a core on a busy
    machine; with 2 BLAS threads it adds both threads' time)."""
    if hasattr(model.layers[0], "needs_input_grad"):
        model.layers[0].needs_input_grad = False   # as in training: nobody needs d(loss)/d(image)
    times = {part: [[] for _ in model.layers] for part in ("fwd", "bwd", "fwd_cpu", "bwd_cpu")}

    def timed(part: str, i: int, call):
        start, cpu = time.perf_counter(), time.process_time()
        out = call()
        times[part][i].append(time.perf_counter() - start)
        times[part + "_cpu"][i].append(time.process_time() - cpu)
        return out

    for b in range(min(PROFILE_BATCHES, len(x) // batch)):
        h = x[b * batch:(b + 1) * batch]
        for i, layer in enumerate(model.layers):
            h = timed("fwd", i, lambda: layer.forward(h, training=True))
        grad = np.full_like(h, 1.0 / h.size)   # any upstream gradient: cost does not depend on its values
        for i in reversed(range(len(model.layers))):
            grad = timed("bwd", i, lambda: model.layers[i].backward(grad))
    rows = []
    for i, layer in enumerate(model.layers):
        rows.append([str(i), layer.describe(), "x".join(map(str, layer.output_shape))]
                    + [f"{1000 * common.median(times[part][i]):.2f}" for part in ("fwd", "bwd", "fwd_cpu", "bwd_cpu")])
    return rows


def evaluation_time(model, ds) -> tuple[float, float]:
    """(wall s, CPU s) of one test-set evaluation as the trainer runs it at the end of every epoch."""
    from engine.metrics import evaluate
    start, cpu = time.perf_counter(), time.process_time()
    evaluate(model, ds.x_test, ds.y_test, "classification")
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = common.base_parser(__doc__.splitlines()[0], epochs=0)
    parser.add_argument("--model", choices=sorted(MODELS), default="small", help="which network (default small)")
    parser.add_argument("--batch", type=int, default=None, help="batch size (default: 128 small, 64 digit)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even when it is installed")
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this JSON file")
    args = parser.parse_args()
    common.apply_engine_threads(args.threads)
    make_layers, batch, epochs, description = MODELS[args.model]
    args.batch, args.epochs = args.batch or batch, args.epochs or epochs
    layers = make_layers()
    folder = common.mnist_dir(args.mnist_dir)
    spec = job_spec(folder, args, layers)
    ds = engine.load_dataset(spec["dataset"])
    print(f"MNIST {description}, Adam lr {LEARNING_RATE:g}, batch {args.batch}, float32, {args.epochs} epochs; "
          f"{len(ds.x_train)} training / {len(ds.x_test)} test images from {folder}")
    for line in common.environment_lines():
        print(line)
    load_before = common.load_average()
    others, torch_note = {}, None
    if args.no_torch:
        torch_note = "skipped (--no-torch)"
    else:
        try:
            import torch
            others["PyTorch"] = torch_epochs(torch, ds, layers, args.batch, args.epochs, args.seed, args.threads)
            torch_note = f"torch {torch.__version__}, {torch.get_num_threads()} threads"
        except ImportError:
            torch_note = "not installed (import torch failed): skipped"
    results = run_side_by_side(spec, others)
    model = results.pop("model")
    for name, r in results.items():
        print(f"{name}: s per epoch " + " ".join(f"{s:.3f}" for s in r["seconds"])
              + "; CPU s " + " ".join(f"{s:.3f}" for s in r["cpu"]) + f"; test accuracy {100 * r['accuracy']:.2f}%")
    load_after = common.load_average()
    print(f"PyTorch: {torch_note}")
    print(f"load average before: {load_before}; after: {load_after}")
    print()
    eng = results["engine.train"]
    rows = []
    for name, r in results.items():
        rows.append([name, f"{common.median(r['seconds']):.3f}", f"{paired_ratio(eng['seconds'], r['seconds']):.2f}x",
                     f"{common.median(r['cpu']):.3f}", f"{paired_ratio(eng['cpu'], r['cpu']):.2f}x",
                     f"{100 * r['accuracy']:.2f}%"])
    if "PyTorch" not in results:
        rows.append(["PyTorch", torch_note, "", "", "", ""])
    print(common.format_table(["implementation", "s/epoch (median)", "engine / this (wall)", "CPU s/epoch (median)",
                               "engine / this (CPU)", f"test accuracy after {args.epochs} epochs"], rows))
    print()
    print(f"engine per-layer time, median over {PROFILE_BATCHES} test batches of {args.batch}, backward as in "
          f"training (the first layer computes no input gradient):")
    layer_rows = layer_times(model, ds.x_test, args.batch)
    print(common.format_table(["layer", "type", "output", "forward ms", "backward ms", "forward CPU ms",
                               "backward CPU ms"], layer_rows))
    eval_wall, eval_cpu = evaluation_time(model, ds)
    print(f"\nengine test-set evaluation ({len(ds.x_test)} images, part of every epoch): {eval_wall:.3f} s wall, "
          f"{eval_cpu:.3f} s CPU")
    if args.json:
        args.json.write_text(json.dumps({"row": args.model, "threads": args.threads, "batch": args.batch,
                                         "load_before": load_before, "load_after": load_after,
                                         "engine": common.engine_version(), "torch": torch_note,
                                         "results": results, "layers": layer_rows,
                                         "evaluation_s": [eval_wall, eval_cpu]}, indent=1))


if __name__ == "__main__":
    main()
