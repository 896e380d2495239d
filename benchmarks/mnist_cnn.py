"""MNIST small CNN through engine.train: seconds per epoch, test accuracy, and where a batch's time goes.

Usage: python benchmarks/mnist_cnn.py [--mnist-dir DIR] [--epochs 3] [--limit N] [--threads N] [--seed 0]

Network: conv 8@3x3 relu -> maxpool 2 -> conv 16@3x3 relu -> maxpool 2 -> flatten -> dense 10 softmax
(valid padding, glorot_uniform kernels as Keras), categorical cross-entropy, Adam lr 1e-3, batch 128,
float32. s/epoch is the trainer's own epoch record `seconds` (training steps plus the test-set
evaluation). After training, every layer's forward and backward is timed on a few batches.
"""
from __future__ import annotations

import sys
import time

import common

common.set_threads_from_argv()   # before numpy loads

import numpy as np  # noqa: E402

import engine  # noqa: E402

BATCH = 128
LEARNING_RATE = 1e-3
LAYERS = [
    {"type": "conv2d", "filters": 8, "kernel_size": 3, "activation": "relu"},
    {"type": "maxpool2d", "pool_size": 2},
    {"type": "conv2d", "filters": 16, "kernel_size": 3, "activation": "relu"},
    {"type": "maxpool2d", "pool_size": 2},
    {"type": "flatten"},
    {"type": "dense", "units": 10, "activation": "softmax"},
]
PROFILE_BATCHES = 20


def job_spec(folder, args) -> dict:
    return {
        "dataset": {"name": "mnist", "path": str(folder), "flatten": False, "limit": args.limit, "download": False},
        "model": {"dtype": "float32", "loss": "categorical_crossentropy", "layers": LAYERS},
        "training": {"optimizer": {"name": "adam", "learning_rate": LEARNING_RATE},
                     "batch_size": BATCH, "epochs": args.epochs, "seed": args.seed},
        "stream": {"histograms": False, "boundary": False},
    }


def layer_times(model, x: np.ndarray) -> list[list[str]]:
    """Median ms per batch of each layer's forward (training mode) and backward, over up to PROFILE_BATCHES
    batches of the images x."""
    if hasattr(model.layers[0], "needs_input_grad"):
        model.layers[0].needs_input_grad = False   # as in training: nobody needs d(loss)/d(image)
    fwd = [[] for _ in model.layers]
    bwd = [[] for _ in model.layers]
    for b in range(min(PROFILE_BATCHES, len(x) // BATCH)):
        h = x[b * BATCH:(b + 1) * BATCH]
        for i, layer in enumerate(model.layers):
            start = time.perf_counter()
            h = layer.forward(h, training=True)
            fwd[i].append(time.perf_counter() - start)
        grad = np.full_like(h, 1.0 / h.size)   # any upstream gradient: cost does not depend on its values
        for i in reversed(range(len(model.layers))):
            start = time.perf_counter()
            grad = model.layers[i].backward(grad)
            bwd[i].append(time.perf_counter() - start)
    rows = []
    for i, layer in enumerate(model.layers):
        rows.append([str(i), layer.describe(), "x".join(map(str, layer.output_shape)),
                     f"{1000 * common.median(fwd[i]):.2f}", f"{1000 * common.median(bwd[i]):.2f}"])
    return rows


def main() -> None:
    args = common.base_parser(__doc__.splitlines()[0], epochs=3).parse_args()
    folder = common.mnist_dir(args.mnist_dir)
    spec = job_spec(folder, args)
    ds = engine.load_dataset(spec["dataset"])
    print(f"MNIST CNN conv8@3x3 relu > maxpool2 > conv16@3x3 relu > maxpool2 > dense10 softmax, Adam lr "
          f"{LEARNING_RATE:g}, batch {BATCH}, float32, {args.epochs} epochs; {len(ds.x_train)} training / "
          f"{len(ds.x_test)} test images from {folder}")
    for line in common.environment_lines():
        print(line)
    cpu, mark = [], [time.process_time()]

    def on_event(event: dict) -> None:   # process CPU time per epoch (epoch 1 includes the trainer's setup)
        if event["type"] == "epoch":
            cpu.append(time.process_time() - mark[0])
            mark[0] = time.process_time()

    result = engine.train(spec, on_event=on_event)
    if result.outcome != "completed":
        sys.exit(f"engine training ended with {result.outcome}: {result.message}")
    seconds = [r["seconds"] for r in result.history]
    print("engine.train: s per epoch " + " ".join(f"{s:.3f}" for s in seconds)
          + "; CPU s " + " ".join(f"{s:.3f}" for s in cpu)
          + "; test accuracy per epoch " + " ".join(f"{100 * r['test_accuracy']:.2f}%" for r in result.history))
    print(f"load average after: {common.load_average()}")
    print()
    print(common.format_table(
        ["implementation", "s/epoch (median)", f"test accuracy after {len(seconds)} epochs",
         "CPU s/epoch (median)", "params"],
        [["engine.train", f"{common.median(seconds):.3f}", f"{100 * result.history[-1]['test_accuracy']:.2f}%",
          f"{common.median(cpu):.3f}", str(result.model.n_params())]]))
    print()
    print(f"per-layer time, median over {PROFILE_BATCHES} test batches of {BATCH}, backward as in training "
          f"(the first layer computes no input gradient):")
    print(common.format_table(["layer", "type", "output", "forward ms", "backward ms"],
                              layer_times(result.model, ds.x_test)))


if __name__ == "__main__":
    main()
