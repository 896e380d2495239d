"""Peak memory of training the shipped digit model's spec for one epoch, each measurement in a fresh process.

Usage: python benchmarks/memory.py [--mnist-dir DIR] [--limit N] [--threads 1] [--json OUT]

Trains engine/assets/digit_model.spec.json as shipped (augmentation, schedule, batch 64) for one epoch with
engine.train, twice, each time in a new Python process so nothing earlier counts:
- rss: resource.getrusage(RUSAGE_SELF).ru_maxrss, the process's peak resident set (Python, NumPy, OpenBLAS
  buffers, the dataset, everything), next to the resident set just before training starts (after imports and
  loading MNIST, as the trainer will load it again);
- tracemalloc: the peak of memory allocated through Python and NumPy (NumPy reports its array buffers to
  tracemalloc), split into the training steps (start to the first test-set evaluation) and the end-of-epoch
  evaluation (the engine's `evaluate`, wrapped here to reset the peak around it). tracemalloc slows the
  run, so its epoch time is not a speed figure.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import common

SPEC = common.REPO / "engine" / "assets" / "digit_model.spec.json"
MB = 1024 * 1024


def job_spec(folder: Path, limit: int | None) -> dict:
    spec = json.loads(SPEC.read_text())
    spec["dataset"].update(path=str(folder), limit=limit, download=False)
    spec["training"]["epochs"] = 1
    return spec


def rss_mb() -> float:
    """Current resident set from /proc (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(mode: str, folder: Path, limit: int | None) -> dict:
    """Runs in the fresh process: one epoch, the measurements as a dict."""
    import tracemalloc

    import engine
    import engine.trainer
    spec = job_spec(folder, limit)
    engine.load_dataset(spec["dataset"])          # warm the file cache; its arrays are freed again
    out = {"mode": mode, "rss_before_mb": rss_mb()}
    if mode == "tracemalloc":
        tracemalloc.start()
        phases = {}
        evaluate = engine.trainer.evaluate

        def timed_evaluate(*a, **k):   # peak of the steps so far, then the peak of this evaluation alone
            phases.setdefault("train_steps_peak_mb", tracemalloc.get_traced_memory()[1] / MB)
            tracemalloc.reset_peak()
            result = evaluate(*a, **k)
            phases["evaluation_peak_mb"] = max(phases.get("evaluation_peak_mb", 0),
                                               tracemalloc.get_traced_memory()[1] / MB)
            return result
        engine.trainer.evaluate = timed_evaluate
    start = time.perf_counter()
    result = engine.train(spec)
    out["seconds"] = time.perf_counter() - start
    out["test_accuracy"] = result.history[-1]["test_accuracy"] if result.history else None
    if mode == "tracemalloc":
        out.update(phases)
        out["traced_now_mb"] = tracemalloc.get_traced_memory()[0] / MB
        tracemalloc.stop()
    out["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # KB on Linux
    out["n_train"] = len(engine.load_dataset(spec["dataset"]).x_train)
    return out


def measure(mode: str, args) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, "--mnist-dir", str(args.folder)]
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        sys.exit(f"the {mode} run failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    common.set_threads_from_argv()
    parser = common.base_parser(__doc__.splitlines()[0], epochs=1)
    parser.add_argument("--child", choices=("rss", "tracemalloc"), default=None, help=argparse_hidden())
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this JSON file")
    args = parser.parse_args()
    args.folder = common.mnist_dir(args.mnist_dir)
    if args.child:
        print(json.dumps(child(args.child, args.folder, args.limit)))
        return
    print(f"peak memory, one epoch of {SPEC.relative_to(common.REPO)} (as shipped: augmentation, batch 64), "
          f"each run in a fresh process")
    for line in common.environment_lines():
        print(line)
    rss, traced = measure("rss", args), measure("tracemalloc", args)
    load_after = common.load_average()
    print(f"load average after: {load_after}")
    print()
    rows = [
        ["peak resident set (getrusage ru_maxrss)", f"{rss['max_rss_mb']:.0f}",
         f"{rss['seconds']:.1f} s, {rss['n_train']} training images"],
        ["resident set before training (imports + MNIST loaded once)", f"{rss['rss_before_mb']:.0f}", ""],
        ["tracemalloc peak: training steps (until the first evaluation)", f"{traced['train_steps_peak_mb']:.0f}",
         "Python + NumPy allocations"],
        ["tracemalloc peak: test-set evaluation (10,000 images)", f"{traced['evaluation_peak_mb']:.0f}",
         "includes what the steps still hold"],
        ["goal (issue 12)", "300", "peak for the digit model's epoch"],
    ]
    print(common.format_table(["measurement", "MB", "note"], rows))
    if args.json:
        args.json.write_text(json.dumps({"row": "memory", "load_after": load_after, "engine": common.engine_version(),
                                         "rss": rss,
                                         "tracemalloc": traced}, indent=1))


def argparse_hidden():
    import argparse
    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
