"""Where the batch split's time goes: every layer's forward and backward with 1 and N threads, interleaved.

Usage: python benchmarks/split_layers.py [--model digit|small] [--threads 2] [--rounds 3]

The engine's layers of mnist_cnn.py's models, built once, timed by mnist_cnn.layer_times on the same batches
of random images (the cost does not depend on the values) with the batch split off (1 thread) and on
(--threads N, engine/parallel.py), alternating round by round in one process so both see the same machine
load. BLAS runs one thread in both. Prints per layer the median wall and CPU ms per batch and the speed-up
(1-thread wall / N-thread wall); CPU time adds the threads' time, so CPU > wall shows the threads overlapping.
On a machine whose cores are taken by other processes the split cannot overlap and the speed-up tends to 1.
"""
from __future__ import annotations

import common
import mnist_cnn   # applies --threads to the BLAS variables; parallel.set_threads puts BLAS at 1 either way

import numpy as np  # noqa: E402

from engine import parallel  # noqa: E402
from engine.model import build_model  # noqa: E402


def main() -> None:
    parser = common.base_parser(__doc__.splitlines()[0], epochs=0)
    parser.add_argument("--model", choices=sorted(mnist_cnn.MODELS), default="digit")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per setting (default 3)")
    args = parser.parse_args()
    threads = args.threads or 2
    make_layers, batch, _, description = mnist_cnn.MODELS[args.model]
    spec = {"dtype": "float32", "loss": "categorical_crossentropy", "input_shape": [1, 28, 28],
            "layers": make_layers()}
    model = build_model(spec, rng=np.random.default_rng(args.seed))
    x = np.random.default_rng(1).random((batch * mnist_cnn.PROFILE_BATCHES, 1, 28, 28), dtype=np.float32)
    print(f"{description}, batch {batch}: layers with 1 and {threads} threads, {args.rounds} interleaved rounds")
    load_before = common.load_average()
    runs = {1: [], threads: []}
    for _ in range(args.rounds):
        for t in runs:
            parallel.set_threads(t)
            runs[t].append(mnist_cnn.layer_times(model, x, batch))
    parallel.set_threads(1)
    print(f"load average before: {load_before}; after: {common.load_average()}")

    def med(t, i, col):
        return common.median([float(r[i][col]) for r in runs[t]])
    rows, totals = [], {t: [0.0, 0.0] for t in runs}
    for i, layer in enumerate(model.layers):
        cells = [str(i), layer.describe()]
        for col, cpu_col in ((3, 5), (4, 6)):
            one, many = med(1, i, col), med(threads, i, col)
            cells += [f"{one:.2f} / {med(1, i, cpu_col):.2f}", f"{many:.2f} / {med(threads, i, cpu_col):.2f}",
                      f"{one / many:.2f}x" if many else ""]
            totals[1][0] += one
            totals[1][1] += med(1, i, cpu_col)
            totals[threads][0] += many
            totals[threads][1] += med(threads, i, cpu_col)
        rows.append(cells)
    rows.append(["", "all layers (forward + backward)", f"{totals[1][0]:.2f} / {totals[1][1]:.2f}",
                 f"{totals[threads][0]:.2f} / {totals[threads][1]:.2f}", f"{totals[1][0] / totals[threads][0]:.2f}x",
                 "", "", ""])
    n = threads
    print(common.format_table(["layer", "type", "forward 1 thread wall / CPU ms", f"forward {n} threads",
                               "speed-up", "backward 1 thread", f"backward {n} threads", "speed-up"], rows))


if __name__ == "__main__":
    main()
