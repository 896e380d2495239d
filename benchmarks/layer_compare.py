"""Per-layer forward and backward time, the engine beside PyTorch, on the same batches: where a CNN row's gap is.

Usage: python benchmarks/layer_compare.py [--model small|digit] [--batch N] [--repeat 30] [--threads 1]
                                          [--mnist-dir DIR] [--json OUT]

Each engine layer and its PyTorch translation (mnist_cnn.torch_model of that one layer spec: conv2d + ReLU,
maxpool, flatten, linear, dropout) runs forward in training mode and backward on the same input batch (the
real activations of the layers before it, from MNIST test images) with the same upstream gradient; engine
and PyTorch alternate call by call, so both see the same machine load. Medians of process CPU time and wall
clock over `--repeat` batches, in ms per batch. Layer 0 computes no input gradient in either (as in
training). The Adam step over all parameters is timed the same way. With 1 thread, CPU ms is the steadier
clock on a shared machine; with 2 threads CPU ms adds both threads' time, so read the wall column there.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import common

common.set_threads_from_argv()   # before numpy loads

import numpy as np  # noqa: E402

import engine  # noqa: E402
from mnist_cnn import MODELS, job_spec, torch_model  # noqa: E402


def timed(call):
    start, cpu = time.perf_counter(), time.process_time()
    out = call()
    return out, 1000 * (time.perf_counter() - start), 1000 * (time.process_time() - cpu)


def compare(model, torch, x_all: np.ndarray, batch: int, repeat: int, layer_specs: list[dict]) -> list[dict]:
    """Per layer: {name, engine fwd/bwd wall/cpu lists, torch fwd/bwd wall/cpu lists}."""
    mods = []
    for layer, spec in zip(model.layers, layer_specs):
        mods.append(torch_model(torch, [spec], layer.input_shape))
    model.layers[0].needs_input_grad = False
    rows = [{k: [] for k in ("ef", "eb", "efc", "ebc", "tf", "tb", "tfc", "tbc")} for _ in model.layers]
    for r in range(repeat):
        start = (r * batch) % (len(x_all) - batch)
        h = x_all[start:start + batch]
        inputs = []
        for i, layer in enumerate(model.layers):   # engine forward, layer by layer, with torch's right after
            inputs.append(h)
            out, w, c = timed(lambda: layer.forward(h, training=True))
            rows[i]["ef"].append(w), rows[i]["efc"].append(c)
            t_in = torch.from_numpy(h).requires_grad_(i > 0)
            t_out, w, c = timed(lambda: mods[i](t_in))
            rows[i]["tf"].append(w), rows[i]["tfc"].append(c)
            inputs[-1] = (t_in, t_out)
            h = out
        grad = np.full_like(h, 1.0 / h.size)
        for i in reversed(range(len(model.layers))):
            g_np = np.ascontiguousarray(grad)
            grad, w, c = timed(lambda: model.layers[i].backward(g_np))
            rows[i]["eb"].append(w), rows[i]["ebc"].append(c)
            t_in, t_out = inputs[i]
            g_t = torch.from_numpy(g_np.reshape(t_out.shape))
            _, w, c = timed(lambda: t_out.backward(g_t))
            rows[i]["tb"].append(w), rows[i]["tbc"].append(c)
    return rows


def adam_times(model, torch, repeat: int) -> dict:
    """One Adam step over the model's parameters: engine (flat buffer as the trainer runs it) vs torch.optim.Adam."""
    from engine.flat import FLAT_KEY, FlatParams
    from engine.optimizers import make_optimizer
    flat = FlatParams(model)
    opt = make_optimizer({"name": "adam", "learning_rate": 1e-3})
    params, grads = {FLAT_KEY: flat.params}, {FLAT_KEY: np.full_like(flat.params, 1e-3)}
    tparams = [torch.nn.Parameter(torch.from_numpy(p.copy())) for p in model.params.values()]
    for p in tparams:
        p.grad = torch.full_like(p, 1e-3)
    topt = torch.optim.Adam(tparams, lr=1e-3, eps=1e-7)
    res = {"e": [], "ec": [], "t": [], "tc": []}
    for _ in range(repeat):
        _, w, c = timed(lambda: opt.step(params, grads))
        res["e"].append(w), res["ec"].append(c)
        _, w, c = timed(lambda: topt.step())
        res["t"].append(w), res["tc"].append(c)
    return res


def main() -> None:
    parser = common.base_parser(__doc__.splitlines()[0], epochs=0)
    parser.add_argument("--model", choices=sorted(MODELS), default="digit")
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    make_layers, batch, _, description = MODELS[args.model]
    args.batch = args.batch or batch
    layer_specs = make_layers()
    folder = common.mnist_dir(args.mnist_dir)
    args.limit = 1000
    spec = job_spec(folder, args, layer_specs)
    ds = engine.load_dataset(spec["dataset"])
    model = engine.build_model(spec["model"], seed=args.seed, input_shape=(1, 28, 28))
    print(f"{description}, batch {args.batch}, {args.repeat} batches; torch {torch.__version__} "
          f"{torch.get_num_threads()} threads")
    for line in common.environment_lines():
        print(line)
    load_before = common.load_average()
    rows = compare(model, torch, ds.x_test, args.batch, args.repeat, layer_specs)
    adam = adam_times(model, torch, args.repeat)
    load_after = common.load_average()
    med = common.median
    table, tot = [], np.zeros(4)
    for i, (layer, r) in enumerate(zip(model.layers, rows)):
        vals = [med(r["efc"]), med(r["tfc"]), med(r["ebc"]), med(r["tbc"])]
        tot += vals
        table.append([str(i), layer.describe(), *(f"{v:.2f}" for v in vals),
                      f"{med(r['ef']):.2f} / {med(r['tf']):.2f}", f"{med(r['eb']):.2f} / {med(r['tb']):.2f}"])
    avals = [med(adam["ec"]), med(adam["tc"])]
    table.append(["", "adam step", f"{avals[0]:.2f}", f"{avals[1]:.2f}", "", "", f"{med(adam['e']):.2f} / "
                  f"{med(adam['t']):.2f}", ""])
    table.append(["", "total", f"{tot[0] + avals[0]:.2f}", f"{tot[1] + avals[1]:.2f}", f"{tot[2]:.2f}",
                  f"{tot[3]:.2f}", "", ""])
    print(common.format_table(["layer", "type", "engine fwd CPU ms", "torch fwd CPU ms", "engine bwd CPU ms",
                               "torch bwd CPU ms", "fwd wall ms (engine / torch)", "bwd wall ms (engine / torch)"],
                              table))
    print(f"load average before: {load_before}; after: {load_after}")
    if args.json:
        args.json.write_text(json.dumps({"model": args.model, "threads": args.threads, "load_before": load_before,
                                         "load_after": load_after, "engine": common.engine_version(),
                                         "table": table}, indent=1))


if __name__ == "__main__":
    main()
