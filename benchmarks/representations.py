"""Representations (issue 15), measured in one run: autoencoders, stacked pre-training, fine-tuning, k-NN.

Usage: python benchmarks/representations.py [--mnist-dir DIR] [--limit 10000] [--threads 1] [--quick]

1. MNIST autoencoders 784-256-code-256-784 (ReLU, sigmoid output, binary cross-entropy on pixels, Adam 1e-3,
   batch 128) with a 2-D and a 32-D code after the same fixed budget (--ae-epochs on --limit training images):
   test reconstruction MSE per pixel, beside PCA with as many components (the best linear code) and the mean image;
   and the /autoencoder page's conv autoencoder with a 2-D code on the same budget.
2. Stacked autoencoders, as the lectures' table: a 784-256-784 autoencoder on the images, a 256-128-256 one on its
   codes (sigmoid units, binary cross-entropy), their encoders copied into 784-256-128-10 (init_from layers) and
   fine-tuned with a softmax, beside the same network trained from scratch on the same budget (lecture: 96.6%).
3. Fine-tuning versus from scratch on 1,000 Fashion-MNIST images: a small CNN trained on MNIST digits gives its two
   convolutions (init_from layers [0, 2]) to the same CNN on 1,000 Fashion-MNIST images; also digits 0-4 -> 5-9
   (dataset.classes). Test accuracy on the full test sets after the same epochs.
4. k-NN on MNIST (k = 3, L2 and L1): accuracy and CPU time per prediction, beside the linear classifier (one dense
   softmax layer) and, when PyTorch is installed, torch.cdist + topk on the same rows.
Prints markdown tables, the load average and the engine commit.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import common

common.set_threads_from_argv()   # before numpy loads

import numpy as np  # noqa: E402

import engine  # noqa: E402
from engine import representations  # noqa: E402
from engine.datasets import load_dataset  # noqa: E402
from engine.knn import KNNModel  # noqa: E402

ADAM = {"name": "adam", "learning_rate": 1e-3}
QUIET = {"histograms": False, "boundary": False}
LIMITS = engine.Limits(max_knn_pairs=10**9)


def dense(units, activation, **flags):
    return {"type": "dense", "units": units, "activation": activation, **flags}


def run(spec, **kwargs):
    """engine.train with CPU seconds; returns (result, cpu seconds)."""
    t0 = time.process_time()
    result = engine.train(spec, limits=LIMITS, **kwargs)
    return result, time.process_time() - t0


def mnist(folder, **options):
    return {"name": "mnist", "path": str(folder), "download": False, **options}


# -- 1. autoencoders -------------------------------------------------------------------------------
def autoencoders(folder, args) -> list[list[str]]:
    rows = []
    ds = load_dataset(mnist(folder, flatten=True, limit=args.limit))
    x_tr, x_te = ds.x_train.astype(np.float64), ds.x_test.astype(np.float64)
    mean = x_tr.mean(axis=0)
    _, _, vt = np.linalg.svd(x_tr - mean, full_matrices=False)           # PCA on the same training images
    rows.append(["mean image (no code)", "-", f"{np.mean((x_te - mean) ** 2):.4f}", "-"])
    for code in (2, 32):
        spec = {"dataset": mnist(folder, flatten=True, limit=args.limit, target="input"),
                "model": {"layers": [dense(256, "relu"), dense(code, "linear"), dense(256, "relu"),
                                     dense(784, "sigmoid")], "loss": "binary_crossentropy"},
                "training": {"optimizer": ADAM, "batch_size": 128, "epochs": args.ae_epochs, "seed": args.seed},
                "stream": QUIET}
        result, cpu = run(spec)
        last = result.history[-1]
        v = vt[:code]                                                     # (code, 784)
        pca = np.mean(((x_te - mean) @ v.T @ v + mean - x_te) ** 2)
        rows.append([f"autoencoder, {code}-D code", f"{args.ae_epochs} epochs, {cpu:.0f} CPU s",
                     f"{last['test_reconstruction_error']:.4f}", f"PCA {code} components: {pca:.4f}"])
    # the /autoencoder page's conv autoencoder (conv 8, 16 + pools; mirrored upsample2d + conv decoder), 2-D code
    conv = lambda f, a="relu": {"type": "conv2d", "filters": f, "kernel_size": 3, "padding": "same",  # noqa: E731
                                "activation": a}
    layers = [conv(8), {"type": "maxpool2d"}, conv(16), {"type": "maxpool2d"}, {"type": "flatten"},
              dense(2, "linear", code=True), dense(16 * 7 * 7, "relu"), {"type": "reshape", "target_shape": [16, 7, 7]},
              {"type": "upsample2d"}, conv(16), {"type": "upsample2d"}, conv(8), conv(1, "linear"), {"type": "flatten"},
              {"type": "activation", "activation": "sigmoid"}]
    spec = {"dataset": mnist(folder, flatten=False, limit=args.limit, target="input"),
            "model": {"layers": layers, "loss": "binary_crossentropy"},
            "training": {"optimizer": ADAM, "batch_size": 128, "epochs": args.ae_epochs, "seed": args.seed},
            "stream": QUIET}
    result, cpu = run(spec)
    rows.append(["conv autoencoder (conv 8, 16 / upsample), 2-D code", f"{args.ae_epochs} epochs, {cpu:.0f} CPU s",
                 f"{result.history[-1]['test_reconstruction_error']:.4f}", "the dense 2-D code above"])
    return rows


# -- 2. stacked autoencoders -----------------------------------------------------------------------
CODES: dict = {}


def register_codes(x_train, y_train, x_test, y_test) -> None:
    """A dataset of the first autoencoder's codes (N, 256), registered like any other (inline data is capped
    at a million values, the codes of 22,699 images are 5.8 million)."""
    from engine.datasets import DATASETS, Dataset
    CODES.update(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    if "bench_codes" not in DATASETS:
        @DATASETS.register("bench_codes", doc="the benchmark's first-layer codes", kind="codes")
        def codes(options, spec, features):
            return Dataset(name="bench_codes", x_train=CODES["x_train"], y_train=CODES["y_train"],
                           x_test=CODES["x_test"], y_test=CODES["y_test"], n_classes=10,
                           class_names=[str(d) for d in range(10)], input_shape=(CODES["x_train"].shape[1],))
def stacked(folder, args, work: Path) -> list[list[str]]:
    budget = {"optimizer": ADAM, "batch_size": 128, "seed": args.seed}
    ae1 = {"dataset": mnist(folder, flatten=True, limit=args.stack_limit, target="input"),
           "model": {"layers": [dense(256, "sigmoid"), dense(784, "sigmoid")], "loss": "binary_crossentropy"},
           "training": {**budget, "epochs": args.pre_epochs}, "stream": QUIET}
    first, cpu1 = run(ae1)
    ds = load_dataset(mnist(folder, flatten=True, limit=args.stack_limit))
    codes_tr = representations.encode(first.model, ds.x_train, 0)            # (N, 256) in [0, 1]
    codes_te = representations.encode(first.model, ds.x_test, 0)
    register_codes(codes_tr, ds.y_train, codes_te, ds.y_test)
    ae2 = {"dataset": {"name": "bench_codes", "target": "input"},
           "model": {"layers": [dense(128, "sigmoid"), dense(256, "sigmoid")], "loss": "binary_crossentropy"},
           "training": {**budget, "epochs": args.pre_epochs}, "stream": QUIET}
    second, cpu2 = run(ae2)
    net = {"layers": [dense(256, "sigmoid"), dense(128, "sigmoid"), dense(10, "softmax")],
           "loss": "categorical_crossentropy"}
    start = engine.build_model(net, input_shape=[784])                    # the two encoders, stacked in one file
    start.set_weights({"0.W": first.model.params["0.W"], "0.b": first.model.params["0.b"],
                       "1.W": second.model.params["0.W"], "1.b": second.model.params["0.b"]})
    start.save(work / "stacked.npz")
    tune = {"dataset": mnist(folder, flatten=True, limit=args.stack_limit), "model": net,
            "training": {**budget, "epochs": args.tune_epochs}, "stream": QUIET}
    tuned, cpu3 = run(tune, init_from={"path": work / "stacked.npz", "layers": [0, 1]})
    scratch, cpu4 = run(tune)
    n = len(ds.x_train)
    return [
        ["stacked AE pre-training (784-256-784, then 256-128-256 on its codes)",
         f"{args.pre_epochs} + {args.pre_epochs} epochs, {cpu1 + cpu2:.0f} CPU s",
         f"recon. MSE {first.history[-1]['test_reconstruction_error']:.4f} / "
         f"{second.history[-1]['test_reconstruction_error']:.4f}", "-"],
        [f"  + softmax fine-tune, 784-256-128-10 sigmoid ({n:,} images)", f"{args.tune_epochs} epochs, {cpu3:.0f} CPU s",
         f"{100 * tuned.history[-1]['test_accuracy']:.2f}%", "lecture's table: 96.6%"],
        ["  same network from scratch", f"{args.tune_epochs} epochs, {cpu4:.0f} CPU s",
         f"{100 * scratch.history[-1]['test_accuracy']:.2f}%", "-"],
    ]


# -- 3. fine-tuning versus from scratch ------------------------------------------------------------
CNN = {"layers": [{"type": "conv2d", "filters": 16, "kernel_size": 3, "activation": "relu"},
                  {"type": "maxpool2d", "pool_size": 2},
                  {"type": "conv2d", "filters": 32, "kernel_size": 3, "activation": "relu"},
                  {"type": "maxpool2d", "pool_size": 2}, {"type": "flatten"},
                  dense(64, "relu"), dense(10, "softmax")], "loss": "categorical_crossentropy"}


def cnn(classes: int, frozen: bool = False) -> dict:
    layers = [dict(layer) for layer in CNN["layers"]]
    layers[-1]["units"] = classes
    if frozen:
        for i in (0, 2):
            layers[i]["trainable"] = False
    return {**CNN, "layers": layers}


def transfer(folder, args, work: Path) -> list[list[str]]:
    rows = []
    cases = [("MNIST digits -> 1,000 Fashion-MNIST", mnist(folder, limit=args.source_limit), 10,
              {"name": "fashion_mnist", "limit": 1000, "download": False}, 10),
             ("digits 0-4 -> 1,000 images of 5-9", mnist(folder, limit=args.source_limit, classes=[0, 1, 2, 3, 4]), 5,
              mnist(folder, limit=1000, classes=[5, 6, 7, 8, 9]), 5)]
    for title, source, k_source, target, k_target in cases:
        src, cpu_src = run({"dataset": source, "model": cnn(k_source), "stream": QUIET,
                            "training": {"optimizer": ADAM, "batch_size": 64, "epochs": args.source_epochs,
                                         "seed": args.seed}})
        src.model.save(work / "source.npz")
        budget = {"optimizer": ADAM, "batch_size": 32, "epochs": args.target_epochs, "seed": args.seed}
        runs = {"from scratch": run({"dataset": target, "model": cnn(k_target), "training": budget, "stream": QUIET}),
                "fine-tuned (convs copied)": run({"dataset": target, "model": cnn(k_target), "training": budget,
                                                  "stream": QUIET},
                                                 init_from={"path": work / "source.npz", "layers": [0, 2]}),
                "convs copied and frozen": run({"dataset": target, "model": cnn(k_target, frozen=True),
                                                "training": budget, "stream": QUIET},
                                               init_from={"path": work / "source.npz", "layers": [0, 2]})}
        rows.append([title, f"source {args.source_epochs} epochs: {100 * src.history[-1]['test_accuracy']:.2f}%",
                     "", f"{cpu_src:.0f} CPU s"])
        for name, (result, cpu) in runs.items():
            curve = [100 * r["test_accuracy"] for r in result.history]
            marks = ", ".join(f"{curve[e - 1]:.1f}" for e in sorted({1, 3, len(curve) // 2, len(curve)}) if e >= 1)
            rows.append([f"  {name}", f"{args.target_epochs} epochs, {cpu:.0f} CPU s",
                         f"{curve[-1]:.2f}%", f"test % at epochs 1, 3, mid, last: {marks}"])
    return rows


# -- 4. k-NN and the linear classifier -------------------------------------------------------------
def per_prediction(fn, x) -> float:
    t0 = time.process_time()
    fn(x)
    return (time.process_time() - t0) / len(x)


def baselines(folder, args) -> list[list[str]]:
    rows = []
    spec = {"dataset": mnist(folder, flatten=True, limit=args.limit), "model": {"type": "knn", "k": 3, "metric": "l2"},
            "stream": QUIET}
    result, cpu = run(spec)
    rec = result.history[0]
    rows.append([f"k-NN k=3 L2, {args.limit:,} stored images", f"fit {rec['fit_seconds'] * 1e3:.0f} ms",
                 f"{100 * rec['test_accuracy']:.2f}% (10,000 test)", f"{rec['test_seconds_per_prediction'] * 1e3:.2f} ms"])
    ds = load_dataset(mnist(folder, flatten=True, limit=args.limit))
    some = ds.x_test[:args.l1_rows]
    l1 = KNNModel({"type": "knn", "k": 3, "metric": "l1", "input_shape": [784], "dtype": "float32"})
    l1.fit(ds.x_train, ds.y_train, 10)
    t = per_prediction(l1.predict_labels, some)
    acc = np.mean(l1.predict_labels(some) == ds.y_test[:args.l1_rows])
    l2 = KNNModel({"type": "knn", "k": 3, "metric": "l2", "input_shape": [784], "dtype": "float32"})
    acc_l2 = np.mean(l2.fit(ds.x_train, ds.y_train, 10).predict_labels(some) == ds.y_test[:args.l1_rows])
    rows.append([f"k-NN k=3 L1, {args.limit:,} stored images", "fit 0 ms",
                 f"{100 * acc:.2f}% (first {args.l1_rows:,} test; L2 on them {100 * acc_l2:.2f}%)", f"{t * 1e3:.2f} ms"])
    linear = {"dataset": mnist(folder, flatten=True, limit=args.limit), "stream": QUIET,
              "model": {"layers": [dense(10, "softmax")], "loss": "categorical_crossentropy"},
              "training": {"optimizer": ADAM, "batch_size": 128, "epochs": args.linear_epochs, "seed": args.seed}}
    lin, cpu = run(linear)
    t = per_prediction(lin.model.predict_labels, ds.x_test)
    rows.append([f"linear classifier (dense 10 softmax), {args.limit:,} images",
                 f"{args.linear_epochs} epochs, {cpu:.1f} CPU s",
                 f"{100 * lin.history[-1]['test_accuracy']:.2f}% (10,000 test)", f"{t * 1e3:.4f} ms"])
    try:
        import torch
    except ImportError:
        rows.append(["torch.cdist + topk (yardstick)", "-", "PyTorch not installed", "-"])
        return rows
    xt, qt, yt = torch.from_numpy(ds.x_train), torch.from_numpy(ds.x_test), torch.from_numpy(ds.y_train)

    def torch_knn(q):
        out = []
        for i in range(0, len(q), 1000):
            idx = torch.cdist(q[i:i + 1000], xt).topk(3, largest=False).indices      # (B, 3)
            out.append(torch.mode(yt[idx], dim=1).values)
        return torch.cat(out)
    t = per_prediction(torch_knn, qt)
    acc = float((torch_knn(qt).numpy() == ds.y_test).mean())
    rows.append([f"torch.cdist + topk k=3 L2 (yardstick)", "-", f"{100 * acc:.2f}% (10,000 test)", f"{t * 1e3:.2f} ms"])
    return rows


def main() -> None:
    parser = common.base_parser(__doc__.split("\n")[0], epochs=0)
    parser.add_argument("--ae-epochs", type=int, default=10)
    parser.add_argument("--pre-epochs", type=int, default=5)
    parser.add_argument("--tune-epochs", type=int, default=10)
    parser.add_argument("--stack-limit", type=int, default=None, help="images for part 2 (default: every one)")
    parser.add_argument("--source-limit", type=int, default=10_000)
    parser.add_argument("--source-epochs", type=int, default=2)
    parser.add_argument("--target-epochs", type=int, default=10)
    parser.add_argument("--linear-epochs", type=int, default=5)
    parser.add_argument("--l1-rows", type=int, default=1000)
    parser.add_argument("--parts", default="1,2,3,4")
    parser.set_defaults(limit=10_000)
    args = parser.parse_args()
    folder = common.mnist_dir(args.mnist_dir)
    print("\n".join(common.environment_lines()))
    parts = set(args.parts.split(","))
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        jobs = [("1", "Autoencoders (test reconstruction MSE per pixel)", ["model", "budget", "test MSE", "yardstick"],
                 lambda: autoencoders(folder, args)),
                ("2", "Stacked autoencoders + softmax", ["model", "budget", "test", "reference"],
                 lambda: stacked(folder, args, work)),
                ("3", "Fine-tuning versus from scratch (small CNN)", ["run", "budget", "test accuracy", "curve"],
                 lambda: transfer(folder, args, work)),
                ("4", "k-NN and the linear classifier on MNIST", ["model", "fit / train", "accuracy",
                                                                  "CPU time per prediction"],
                 lambda: baselines(folder, args))]
        for key, title, headers, fn in jobs:
            if key not in parts:
                continue
            started = time.perf_counter()
            rows = fn()
            print(f"\n### {title} ({time.perf_counter() - started:.0f} s wall, load average {common.load_average()})")
            print(common.format_table(headers, rows))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
