"""Issue 12's table in one run: every workload, the engine next to its yardsticks, ratios against the goals.

Usage: /tmp/bench-venv/bin/python benchmarks/speed_table.py [--rows mlp,small1,small2,digit1,digit2,spiral,memory]
                                                            [--limit N] [--mnist-dir DIR] [--out DIR] [--from DIR]

Each row runs its script in a fresh process (the BLAS thread count is fixed when NumPy loads, so the 1- and
2-thread rows cannot share one): mnist_mlp.py, mnist_cnn.py --model small|digit, spiral_tiny.py, memory.py.
Inside each script the implementations are interleaved epoch by epoch (or round by round), so a ratio
compares runs that saw the same machine load; the load average is printed beside every row. Each script's
own output (per-epoch times, per-layer table) is echoed, then the summary table. Run it with a Python that
has torch installed to fill the PyTorch column; without torch that column says it was skipped.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import common

HERE = Path(__file__).resolve().parent
# row -> (script arguments, workload, goal text, goal checks {peer: max engine/peer ratio})
ROWS = {
    "mlp": (["mnist_mlp.py", "--threads", "1"], "MLP 784-256-128-10, Adam, batch 128, 1 thread, s/epoch",
            {"bare NumPy loop": 1.02, "PyTorch": 0.8}),
    "small1": (["mnist_cnn.py", "--model", "small", "--threads", "1"],
               "small CNN (8@3x3 > pool > 16@3x3 > pool > dense 10), batch 128, 1 thread, s/epoch", {"PyTorch": 0.9}),
    "small2": (["mnist_cnn.py", "--model", "small", "--threads", "2"], "small CNN, batch 128, 2 threads, s/epoch",
               {"PyTorch": 1.0}),
    "digit1": (["mnist_cnn.py", "--model", "digit", "--threads", "1"],
               "the shipped digit model's architecture, batch 64, 1 thread, s/epoch", {"PyTorch": 1.0}),
    "digit2": (["mnist_cnn.py", "--model", "digit", "--threads", "2"],
               "the digit model's architecture, batch 64, 2 threads, s/epoch", {"PyTorch": 1.0}),
    "spiral": (["spiral_tiny.py", "--threads", "1"],
               "spiral 2-8-8-1, batch 10, 250 points, one epoch + train/test loss, no frames, ms/epoch",
               {"TensorFlow Playground nn.ts (Node)": 1.0}),
    "memory": (["memory.py", "--threads", "1"], "peak memory training the digit model spec for one epoch", {}),
}
MEMORY_GOAL_MB = 300


def run_row(name: str, args, out_dir: Path) -> dict:
    script_args, _, _ = ROWS[name]
    path = out_dir / f"{name}.json"
    cmd = [sys.executable, str(HERE / script_args[0]), *script_args[1:], "--json", str(path)]
    if args.mnist_dir and name != "spiral":
        cmd += ["--mnist-dir", str(args.mnist_dir)]
    if args.limit and name != "spiral":
        cmd += ["--limit", str(args.limit)]
    print(f"\n$ {' '.join(cmd[1:])}", flush=True)
    done = subprocess.run(cmd, text=True, capture_output=True)
    print(done.stdout, end="", flush=True)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return {"failed": f"exit {done.returncode}"}
    return json.loads(path.read_text())


def paired(engine: list[float], peer: list[float]) -> float:
    return common.median([e / p for e, p in zip(engine, peer)])


def summary_row(name: str, data: dict) -> list[str]:
    _, workload, goals = ROWS[name]
    if "failed" in data:
        return [workload, data["failed"], "", "", "", "", ""]
    if name == "memory":
        peak = data["rss"]["max_rss_mb"]
        steps = data["tracemalloc"]["train_steps_peak_mb"]
        return [workload, f"{peak:.0f} MB peak RSS", f"training steps alone: {steps:.0f} MB (tracemalloc)", "",
                "", f"<= {MEMORY_GOAL_MB} MB: {'met' if peak <= MEMORY_GOAL_MB else 'not met'}",
                data["load_after"]]
    results = data["results"]
    if name == "spiral":
        eng = results["engine.train"]
        peer_name = "TensorFlow Playground nn.ts (Node)"
        peer = results[peer_name]
        bare = results["bare NumPy loop"]
        floor = results.get("NumPy floor (fewest calls)")
        if "skipped" in peer:
            return [workload, f"{eng['ms_per_epoch']:.2f}", peer["skipped"], "", "", "<= 1.0x: n/a", data["load_after"]]
        wall, cpu = eng["ms_per_epoch"] / peer["ms_per_epoch"], eng["cpu_ms_per_epoch"] / peer["cpu_ms_per_epoch"]
        return [workload, f"{eng['ms_per_epoch']:.2f} (record {eng['record_ms_per_epoch']:.2f}, "
                          f"CPU {eng['cpu_ms_per_epoch']:.2f})",
                f"nn.ts {peer['ms_per_epoch']:.2f} / bare NumPy {bare['ms_per_epoch']:.2f}"
                + (f" / NumPy floor {floor['ms_per_epoch']:.2f}" if floor else ""),
                f"{wall:.2f}x nn.ts", f"{cpu:.2f}x nn.ts",
                f"<= 1.0x: wall {'met' if wall <= 1.0 else 'not met'}, CPU {'met' if cpu <= 1.0 else 'not met'}",
                data["load_after"]]
    eng = results["engine.train"]
    peers, walls, cpus, verdicts = [], [], [], []
    for peer_name in [k for k in results if k != "engine.train"]:
        peer = results[peer_name]
        if isinstance(peer, str):
            peers.append(f"{peer_name}: {peer}")
            continue
        short = "PyTorch" if peer_name == "PyTorch" else "bare"
        w, c = paired(eng["seconds"], peer["seconds"]), paired(eng["cpu"], peer["cpu"])
        peers.append(f"{short} {common.median(peer['seconds']):.3f}")
        walls.append(f"{w:.2f}x {short}")
        cpus.append(f"{c:.2f}x {short}")
        if peer_name in goals:   # judged on both clocks: on a busy machine they can disagree
            verdicts.append(f"<= {goals[peer_name]}x {short}: wall {'met' if w <= goals[peer_name] else 'not met'}, "
                            f"CPU {'met' if c <= goals[peer_name] else 'not met'}")
    if "PyTorch" in goals and "PyTorch" not in results:
        peers.append(f"PyTorch: {data.get('torch', 'not installed')}")
        verdicts.append(f"<= {goals['PyTorch']}x PyTorch: n/a")
    return [workload, f"{common.median(eng['seconds']):.3f} (CPU {common.median(eng['cpu']):.3f})", " / ".join(peers),
            ", ".join(walls),
            ", ".join(cpus), "; ".join(verdicts), f"{data.get('load_before', '')} -> {data['load_after']}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated subset of {', '.join(ROWS)}")
    parser.add_argument("--limit", type=int, default=None, help="only the first n MNIST training images (quick runs)")
    parser.add_argument("--mnist-dir", type=Path, default=None, help="folder with the MNIST IDX files")
    parser.add_argument("--out", type=Path, default=None, help="keep each row's JSON here (default: a temp folder)")
    parser.add_argument("--from", dest="from_dir", type=Path, action="append", default=[],
                        help="print the table from the row JSON files kept by earlier --out runs instead of "
                             "measuring (repeatable; a later folder's row wins)")
    args = parser.parse_args()
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        sys.exit(f"unknown rows {unknown}; choose from {', '.join(ROWS)}")
    if args.from_dir:
        data = {}
        for folder in args.from_dir:
            data.update({name: json.loads((folder / f"{name}.json").read_text()) for name in rows
                         if (folder / f"{name}.json").is_file()})
        rows = [name for name in rows if name in data]
    else:
        with tempfile.TemporaryDirectory() as tmp:
            out_dir = args.out or Path(tmp)
            out_dir.mkdir(parents=True, exist_ok=True)
            data = {name: run_row(name, args, out_dir) for name in rows}
    print("\n## issue 12 table (ratios are engine / peer: paired medians within one run; < 1 is faster)\n")
    print(common.format_table(["workload", "engine", "peers", "ratio (wall)", "ratio (CPU)", "goal", "load average"],
                              [summary_row(name, data[name]) for name in rows]))
    versions = sorted({data[name].get("engine", "?") for name in rows})
    print(f"\nengine at {', '.join(versions)}")


if __name__ == "__main__":
    main()
