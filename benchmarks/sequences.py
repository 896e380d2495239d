"""Recurrent networks on the sequence datasets, in one run: the memory contrast, a char model's bits per
character, and the lstm's epoch time next to PyTorch's nn.LSTM.

Usage: python benchmarks/sequences.py [--threads 1] [--memory-epochs 15] [--text-epochs 6] [--speed-epochs 3]
                                      [--parts memory,text,speed] [--json OUT]

1. memory, seq_len 50 (2,000 sequences, 1,600 train / 400 test; the bit sits in the first 10 steps, so it must
   be kept 40-50 steps): simple_rnn 32 and lstm 32, each + dense softmax, Adam lr 0.01, clipnorm 1, batch 32.
   Per epoch: test accuracy; the first epoch at >= 95 %, wall and CPU seconds to reach it.
2. text (the shipped 200 KB of Shakespeare, seq_len 40, 4,000 windows: 3,200 train from the first 80 % of the
   text, 800 test from the rest): lstm 128 + dense softmax, Adam lr 0.005, clipnorm 1, batch 64, a fixed budget of
   `--text-epochs` epochs; test loss in bits per character (nats / ln 2) and a 200-character sample.
3. lstm 32 on the memory data (seq_len 50, batch 32): one training epoch of the engine's trainer step
   (forward, backward, Adam over the flat buffer) against torch.nn.LSTM + nn.Linear + CrossEntropyLoss + Adam
   on the same batches, alternating epoch by epoch so both see the same load; medians of wall and CPU time.
"""
from __future__ import annotations

import json
import math
import os
import statistics
import time

import common

common.set_threads_from_argv()   # before numpy loads

import numpy as np  # noqa: E402

import engine  # noqa: E402
from engine.sampling import generate_text  # noqa: E402
from engine.trainer import Trainer  # noqa: E402


def memory_spec(cell: str, epochs: int) -> dict:
    return {"dataset": {"name": "memory", "seq_len": 50, "n_samples": 2000, "seed": 0},
            "model": {"layers": [{"type": cell, "units": 32},
                                 {"type": "dense", "units": None, "activation": "softmax"}],
                      "loss": "categorical_crossentropy"},
            "training": {"epochs": epochs, "batch_size": 32, "seed": 0,
                         "optimizer": {"name": "adam", "learning_rate": 0.01, "clipnorm": 1.0}},
            "stream": {"histograms": False, "time_gradients": False}}


def timed_run(spec: dict, on_epoch) -> tuple[engine.TrainResult, float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    marks = []

    def event(e):
        if e["type"] == "epoch":
            marks.append((time.perf_counter() - start, time.process_time() - cpu))
            on_epoch(e, *marks[-1])
    result = engine.train(spec, on_event=event)
    return result, time.perf_counter() - start, time.process_time() - cpu


def memory_part(epochs: int) -> dict:
    out = {}
    for cell in ("simple_rnn", "lstm"):
        reached = {}

        def on_epoch(e, wall, cpu, cell=cell, reached=reached):
            print(f"  memory {cell:10s} epoch {e['epoch']:2d}  loss {e['train_loss']:.4f}  test accuracy "
                  f"{e['test_accuracy']:.4f}  {wall:6.1f} s wall  {cpu:6.1f} s CPU", flush=True)
            if e["test_accuracy"] >= 0.95 and not reached:
                reached.update(epoch=e["epoch"], wall=round(wall, 1), cpu=round(cpu, 1))
        result, wall, cpu = timed_run(memory_spec(cell, epochs), on_epoch)
        accs = [r["test_accuracy"] for r in result.history]
        out[cell] = {"final_test_accuracy": accs[-1], "best_test_accuracy": max(accs), "epochs": len(accs),
                     "reached_95": reached or None, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1)}
    return out


def text_part(epochs: int) -> dict:
    spec = {"dataset": {"name": "text", "seq_len": 40, "n_samples": 4000, "seed": 0},
            "model": {"layers": [{"type": "lstm", "units": 128},
                                 {"type": "dense", "units": None, "activation": "softmax"}],
                      "loss": "categorical_crossentropy"},
            "training": {"epochs": epochs, "batch_size": 64, "seed": 0,
                         "optimizer": {"name": "adam", "learning_rate": 0.005, "clipnorm": 1.0}},
            "stream": {"histograms": False, "time_gradients": False}}
    bits = []

    def on_epoch(e, wall, cpu):
        bits.append(e["test_loss"] / math.log(2))
        print(f"  text lstm 128 epoch {e['epoch']:2d}  train {e['train_loss'] / math.log(2):.3f} bits/char  "
              f"test {bits[-1]:.3f} bits/char  {wall:6.1f} s wall  {cpu:6.1f} s CPU", flush=True)
    result, wall, cpu = timed_run(spec, on_epoch)
    sample = generate_text(result.model, "ROMEO:\n", 200, 0.8, 0)
    print("  sample after ROMEO:\\n at temperature 0.8:\n" + "\n".join("    | " + line for line in sample.split("\n")))
    return {"test_bits_per_char": [round(b, 3) for b in bits], "uniform_bits_per_char": round(math.log2(62), 3),
            "epochs": epochs, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "sample": sample}


def torch_epoch(torch, model, head, opt, x, y, order, batch: int) -> None:
    loss_fn = torch.nn.CrossEntropyLoss()
    for b in range(0, len(order), batch):
        idx = order[b:b + batch]
        opt.zero_grad()
        out, _ = model(x[idx])                                   # (B, T, H)
        loss = loss_fn(head(out[:, -1]), y[idx])
        loss.backward()
        opt.step()


def speed_part(epochs: int) -> dict:
    trainer = Trainer(memory_spec("lstm", epochs))
    train = trainer.splits["train"]
    n, batch = len(train.x), trainer.batch_size
    try:
        import torch
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
        torch.manual_seed(0)
        lstm, head = torch.nn.LSTM(2, 32, batch_first=True), torch.nn.Linear(32, 2)
        opt = torch.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=0.01)
        tx, ty = torch.from_numpy(np.ascontiguousarray(train.x)), torch.from_numpy(train.y)
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    times = {"engine": [], "torch": []}
    for epoch in range(epochs):
        order = rng.permutation(n)
        start, cpu = time.perf_counter(), time.process_time()
        for b in range(0, n, batch):
            idx = order[b:b + batch]
            trainer._step(train.x[idx], train.y[idx])
        times["engine"].append((time.perf_counter() - start, time.process_time() - cpu))
        if torch is not None:
            start, cpu = time.perf_counter(), time.process_time()
            torch_epoch(torch, lstm, head, opt, tx, ty, torch.from_numpy(order), batch)
            times["torch"].append((time.perf_counter() - start, time.process_time() - cpu))
        print(f"  lstm 32 epoch {epoch + 1}: engine {times['engine'][-1][0]:.2f} s wall "
              f"({times['engine'][-1][1]:.2f} CPU)" + (f", PyTorch {times['torch'][-1][0]:.2f} s wall "
                                                       f"({times['torch'][-1][1]:.2f} CPU)" if torch else ""),
              flush=True)
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in times.items() if v}
    out = {"engine_wall_s": round(med["engine"][0], 3), "engine_cpu_s": round(med["engine"][1], 3)}
    if "torch" in med:
        out.update(torch_wall_s=round(med["torch"][0], 3), torch_cpu_s=round(med["torch"][1], 3),
                   ratio_wall=round(med["engine"][0] / med["torch"][0], 2),
                   ratio_cpu=round(med["engine"][1] / med["torch"][1], 2), torch_version=torch.__version__)
    else:
        out["torch"] = "not installed (import torch failed): skipped"
    return out


def main() -> None:
    parser = common.base_parser("recurrent networks: memory contrast, char model, lstm vs nn.LSTM", 0)
    parser.add_argument("--memory-epochs", type=int, default=15)
    parser.add_argument("--text-epochs", type=int, default=6)
    parser.add_argument("--speed-epochs", type=int, default=3)
    parser.add_argument("--parts", default="memory,text,speed")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    parts = args.parts.split(",")
    results = {"load_average_start": os.getloadavg()}
    print(f"load average at start: {results['load_average_start']}")
    if "speed" in parts:
        results["speed"] = speed_part(args.speed_epochs)
    if "memory" in parts:
        results["memory"] = memory_part(args.memory_epochs)
    if "text" in parts:
        results["text"] = text_part(args.text_epochs)
    results["load_average_end"] = os.getloadavg()
    print(json.dumps({k: v for k, v in results.items() if k != "text"} |
                     {"text": {k: v for k, v in results.get("text", {}).items() if k != "sample"}}, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
