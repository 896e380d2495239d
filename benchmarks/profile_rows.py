"""Where the engine's time goes, per row of issue 12's table: cProfile of engine.train, as percentages.

Usage: python benchmarks/profile_rows.py [--row spiral|mlp|small|digit] [--limit N] [--epochs N] [--threads 1]
                                         [--top 15] [--mnist-dir DIR]

Builds the trainer for the row's network (the same specs as spiral_tiny.py, mnist_mlp.py and mnist_cnn.py)
outside the profile, so set-up (spec checks, dataset, model build) is left out, then profiles its run:
the epochs, as engine.train runs them (`--repeat` trainers for short rows; the spiral row stays under 50
epochs, where the trainer's not-learning check would end the run). The end-of-epoch evaluations (the
trainer's `evaluate`, wrapped here) go to a profile of their own, so the training steps and the evaluation
are reported apart. For each part it prints two tables, as percentages of that part:
- self time: the functions whose own code (or C call: numpy ufuncs, matmul, copies) takes the most time;
- inclusive time of the engine's functions (engine/ files only): a layer's forward/backward, the optimizer
  step, the penalty, the metrics, the evaluation, the probes; read it as "this call and all it calls".
The profiler's clock is process CPU time, so waiting for a core on a busy machine is not counted.
cProfile adds a fixed cost per Python call, so rows made of many small calls (spiral) look heavier in Python
overhead than they run; the percentages still rank the hot spots. Per-call times are in microseconds.
"""
from __future__ import annotations

import cProfile
import pstats
import sys
import time
from pathlib import Path

import common

common.set_threads_from_argv()   # before numpy loads

import engine.trainer  # noqa: E402
from engine.trainer import Trainer  # noqa: E402

ENGINE_DIR = str(common.REPO / "engine")


def row_spec(row: str, args) -> dict:
    if row == "spiral":
        import spiral_tiny
        return spiral_tiny.job_spec(args.epochs or 40, args.seed)
    folder = common.mnist_dir(args.mnist_dir)
    if row == "mlp":
        import mnist_mlp
        args.epochs = args.epochs or 1
        return mnist_mlp.job_spec(folder, args)
    import mnist_cnn
    make_layers, batch, _, _ = mnist_cnn.MODELS[row]
    args.batch, args.epochs = batch, args.epochs or 1
    return mnist_cnn.job_spec(folder, args, make_layers())


def label(func: tuple) -> str:
    file, line, name = func
    if file == "~":
        return name                                # a C function: "<built-in method numpy...>"
    path = Path(file)
    try:
        short = str(path.relative_to(common.REPO))
    except ValueError:
        short = path.name
    return f"{name} ({short}:{line})"


def report(stats: pstats.Stats, top: int) -> None:
    entries = stats.stats   # {func: (primitive calls, total calls, self time, inclusive time, callers)}
    total = sum(v[2] for v in entries.values())
    print(f"profiled time {total:.2f} s (sum of self times)\n")
    by_self = sorted(entries.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    print(common.format_table(["function (self time)", "% self", "calls", "us/call"],
                              [[label(f), f"{100 * v[2] / total:.1f}", str(v[1]), f"{1e6 * v[2] / max(v[1], 1):.1f}"]
                               for f, v in by_self]))
    print()
    mine = [(f, v) for f, v in entries.items() if f[0].startswith(ENGINE_DIR)]
    by_incl = sorted(mine, key=lambda kv: kv[1][3], reverse=True)[:2 * top]
    print(common.format_table(["engine function (inclusive time)", "% inclusive", "% self", "calls", "us/call"],
                              [[label(f), f"{100 * v[3] / total:.1f}", f"{100 * v[2] / total:.1f}", str(v[1]),
                                f"{1e6 * v[3] / max(v[1], 1):.1f}"] for f, v in by_incl]))


def main() -> None:
    parser = common.base_parser(__doc__.splitlines()[0], epochs=0)
    parser.add_argument("--row", choices=("spiral", "mlp", "small", "digit"), default="spiral")
    parser.add_argument("--top", type=int, default=15, help="rows in the self-time table (default 15)")
    parser.add_argument("--repeat", type=int, default=None, help="trainers to run (default 5 spiral, else 1)")
    args = parser.parse_args()
    spec = row_spec(args.row, args)
    print(f"profile of engine.train, row {args.row}: {args.epochs or spec['training']['epochs']} epochs, "
          f"batch {spec['training']['batch_size']}, limit {args.limit}")
    for line in common.environment_lines():
        print(line)
    # process CPU time as the clock: time spent waiting for a core (other jobs on a shared machine) is not
    # charged to whatever function happened to be running
    profiler, eval_profiler = cProfile.Profile(time.process_time), cProfile.Profile(time.process_time)
    evaluate = engine.trainer.evaluate

    def profiled_evaluate(*a, **k):   # the steps' profile pauses while the evaluation's runs
        profiler.disable()
        eval_profiler.enable()
        try:
            return evaluate(*a, **k)
        finally:
            eval_profiler.disable()
            profiler.enable()
    engine.trainer.evaluate = profiled_evaluate
    for r in range(args.repeat or (5 if args.row == "spiral" else 1)):
        spec["training"]["seed"] = args.seed + r
        trainer = Trainer(spec)
        profiler.enable()
        result = trainer.run()
        profiler.disable()
        print(f"run {r + 1}: outcome {result.outcome}; epoch seconds (record): "
              + " ".join(f"{e['seconds']:.4f}" for e in result.history[:8])
              + ("..." if len(result.history) > 8 else ""))
    print(f"load average after: {common.load_average()}\n")
    print("## training steps and the rest of the epoch loop (evaluation excluded)")
    report(pstats.Stats(profiler), args.top)
    print("\n## end-of-epoch evaluation (test set, and validation if any)")
    report(pstats.Stats(eval_profiler), max(args.top // 2, 5))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
