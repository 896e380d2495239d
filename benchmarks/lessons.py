"""Times the lesson endpoints: POST /api/lessons/optimizers (300 steps x 7 optimizers, the issue's < 100 ms),
the momentum phase diagram and POST /api/lessons/initialization (10 x 500 tanh, 1000 rows).

Each case is timed: the engine function alone (wall clock, and this process's CPU time), and the whole HTTP round trip through the app in-process
(FastAPI TestClient: routing, JSON parsing, the handler, JSON encoding). Wall-clock medians and minima.

    /tmp/venv/bin/python benchmarks/lessons.py [--repeat 15] [--threads 1]
"""
from __future__ import annotations

from common import environment_lines, format_table, median, set_threads_from_argv

set_threads_from_argv()

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from engine.lessons.initialization import activation_statistics  # noqa: E402
from engine.lessons.optimizer_paths import PRESETS, momentum_phase, optimizer_paths  # noqa: E402

CASES = [
    ("optimizers: rosenbrock, 300 steps x 7", "/api/lessons/optimizers", optimizer_paths,
     PRESETS["comparison"]["request"]),
    ("optimizers: custom expression, 300 x 7", "/api/lessons/optimizers", optimizer_paths,
     {**PRESETS["comparison"]["request"], "surface": {"expression": "(1 - x)**2 + 100*(y - x**2)**2",
                                                     "domain": [[-2, 2], [-1, 3]]}}),
    ("phase diagram: ravine, 20 x 20 x 300", "/api/lessons/optimizers/phase", momentum_phase, {}),
    ("initialization: 10 x 500 tanh, 1000 rows", "/api/lessons/initialization", activation_statistics,
     {"layers": 10, "units": 500, "activation": "tanh", "initializer": {"name": "random_normal", "stddev": 0.01},
      "n_samples": 1000, "seed": 0}),
]


def timed(fn, repeat: int, clock=time.perf_counter) -> list[float]:
    fn()   # warm up (imports, first allocations)
    out = []
    for _ in range(repeat):
        t0 = clock()
        fn()
        out.append(clock() - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--threads", type=int, default=None, help="BLAS/OpenMP threads (set before numpy loads)")
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from server.main import create_app
    from server.settings import Settings

    rows = []
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), allowed_hosts=["testserver"])
        with TestClient(create_app(settings)) as client:
            for label, url, fn, body in CASES:
                engine_s = timed(lambda: fn(body), args.repeat)
                # CPU seconds of this process: what the work costs when the shared machine is busy with others
                engine_cpu = timed(lambda: fn(body), args.repeat, time.process_time)

                def post():
                    r = client.post(url, json=body)
                    assert r.status_code == 200, r.text
                http_s = timed(post, args.repeat)
                rows.append([label, f"{1000 * median(engine_s):.1f}", f"{1000 * min(engine_s):.1f}",
                             f"{1000 * median(engine_cpu):.1f}",
                             f"{1000 * median(http_s):.1f}", f"{1000 * min(http_s):.1f}"])
    print("\n".join(environment_lines()))
    print(format_table(["case", "engine median ms", "engine min ms", "engine CPU median ms", "HTTP median ms",
                        "HTTP min ms"], rows))


if __name__ == "__main__":
    main()
