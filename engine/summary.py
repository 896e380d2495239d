"""summarize(model_spec, dataset_spec): what the builder shows, computed by the engine without allocating weights.

Per layer: output shape and parameter count (the layers' own compute_output_shape / param_shapes, as
count_params uses); the errors training would refuse (engine.normalize); warnings (engine.advise plus
the structural notes below); and the output layer + loss that fit the dataset's task, so no client
keeps its own copy of these rules.
"""
from __future__ import annotations

import math

import numpy as np

from .errors import Problem, SpecError
from .spec import DEFAULT_LIMITS, Limits, normalize, prepare_dataset

LINEAR_FEATURES = ("x1", "x2")          # inputs in which a linear layer's boundary is a straight line
NONLINEAR_LAYERS = ("maxout", "maxpool2d")
SYMMETRIC_INITIALIZERS = ("zeros", "ones", "constant")


def _name(ref) -> str | None:
    return ref.get("name") if isinstance(ref, dict) else ref


def output_choices(task: str, n_classes: int | None, n_targets: int = 1) -> list[dict]:
    """Every output head that trains on this task, the suggestion first (each loss declares its heads)."""
    from .losses import output_heads
    return output_heads(task, n_classes, n_targets)


def _dataset_facts(dataset_spec: dict, limits: Limits, errors: list) -> dict | None:
    """{"task", "n_classes", "n_targets", "input_shape", "features"} of a dataset, or None (errors appended).

    engine.spec.prepare_dataset builds cheap sets (2-D, gates, inline, CSV) and reads image sets' declared shapes.
    """
    try:
        spec, facts = prepare_dataset(dataset_spec, limits)
    except SpecError as e:
        errors.extend(e.problems)
        return None
    return {"task": facts.task, "n_classes": facts.n_classes, "n_targets": facts.n_targets or 1,
            "input_shape": list(facts.input_shape), "features": spec.get("features"), "n_train": facts.n_train}


def _layer_rows(model: dict, errors: list) -> list[dict]:
    """Summary rows from shapes alone; rows after a layer that cannot take its input have no shape."""
    from .activations import make_activation
    from .model import _instantiate
    shape, rows, broken = tuple(model["input_shape"]), [], False
    for i, spec in enumerate(model["layers"]):
        layer = _instantiate(spec, f"model.layers.{i}")
        if "activation" in layer.config:  # describe() reads the activation object build() would make
            layer.activation = make_activation(layer.config.get("activation") or "linear", "activation")
        row = {"index": i, "type": spec["type"], "text": spec["type"], "output_shape": None, "params": None,
               "weights": None}
        if not broken:
            try:
                out = layer.compute_output_shape(shape)
                shapes = layer.param_shapes(shape)
            except SpecError as e:
                errors.extend(Problem(f"model.layers.{i}", p.message) for p in e.problems)
                broken = True
            else:
                # describe() after the shape pass: conv reads its kernel size from there
                row.update(text=layer.describe(), output_shape=list(out),
                           params=int(sum(math.prod(s) for s in shapes.values())))
                if "weights" in spec:
                    row["weights"] = _weights_fit(spec["weights"], shapes, f"model.layers.{i}.weights", errors)
                shape = out
        rows.append(row)
    return rows


def _weights_fit(given, shapes: dict, path: str, errors: list) -> str:
    """'ok' when explicit weights have this layer's shapes, else 'stale' (the layer was resized)."""
    if not isinstance(given, dict):
        return "stale"
    fit = "ok"
    for key, value in given.items():
        want = shapes.get(key)
        try:
            got = np.shape(value) if isinstance(value, (list, int, float)) else None
        except ValueError:               # ragged rows have no shape
            got = None
        if want is None or got != tuple(want):
            errors.append(Problem(f"{path}.{key}", f"has shape {list(got or [])} but this layer needs "
                                                    f"{list(want or [])}"))
            fit = "stale"
    return fit


def structure_notes(model: dict, features: list[str] | None, task: str | None) -> list[Problem]:
    """Warnings that need the model and the inputs together (engine.advise sees the model only)."""
    layers, notes = model["layers"], []
    for i, layer in enumerate(layers[:-1]):
        if _name(layer.get("activation")) == "softmax":
            notes.append(Problem(f"model.layers.{i}.activation",
                                 "softmax in a hidden layer squeezes its units to sum to 1; use relu or tanh"))
        if _name(layer.get("kernel_initializer")) in SYMMETRIC_INITIALIZERS and layer.get("units", 1) > 1 \
                and "weights" not in layer:
            notes.append(Problem(f"model.layers.{i}.kernel_initializer",
                                 f"{_name(layer['kernel_initializer'])} starts every unit with the same weights: they "
                                 "get the same gradients and stay identical; use glorot_uniform or he_normal"))
    hidden_linear = all(_name(l.get("activation")) in (None, "linear") and l["type"] not in NONLINEAR_LAYERS
                        for l in layers[:-1])
    if task == "classification" and features and hidden_linear and set(features) <= set(LINEAR_FEATURES):
        notes.append(Problem("model.layers", "every hidden layer is linear and the inputs are only x1, x2: "
                                             "the boundary can only be straight lines; add a nonlinear activation "
                                             "or features like x1^2"))
    return notes


def _dedupe(problems: list[Problem]) -> list[dict]:
    seen, out = set(), []
    for p in problems:
        if (p.path, p.message) not in seen:
            seen.add((p.path, p.message))
            out.append({"path": p.path, "message": p.message})
    return out


def _output_fit(model: dict, facts: dict) -> dict:
    """The suggested head for the task, every head that trains, and whether the model's own head is one."""
    choices = output_choices(facts["task"], facts["n_classes"], facts["n_targets"])
    last = model["layers"][-1]
    mine = {"activation": _name(last.get("activation")) or "linear", "loss": model["loss"], "units": last.get("units")}
    best = choices[0]
    return {"layer": {"type": "dense", "units": best["units"], "activation": best["activation"]}, "loss": best["loss"],
            "fits": mine in choices, "choices": choices}


def _knn_summary(model: dict, model_spec: dict, dataset_spec, facts, limits: Limits, errors: list) -> dict:
    """summarize() for a k-NN model: its one row, no output layer to fit, POST /api/jobs's refusals as errors."""
    from .knn import knn_row
    if facts:
        try:
            normalize({"dataset": dataset_spec, "model": model_spec}, limits)
        except SpecError as e:
            errors.extend(e.problems)
    facts = facts or {}
    return {"layers": [{**knn_row(model, facts.get("n_classes"), facts.get("n_train")), "weights": None}], "n_params": 0,
            "task": facts.get("task"), "n_classes": facts.get("n_classes"), "n_targets": facts.get("n_targets"),
            "input_shape": model["input_shape"], "features": facts.get("features"), "output": None,
            "warnings": [], "errors": _dedupe(errors)}


def summarize(model_spec: dict, dataset_spec: dict | None = None, limits: Limits = DEFAULT_LIMITS) -> dict:
    """JSON-ready summary of a model (and the dataset it is for). Never raises SpecError: problems are listed.

    Returns {"layers": [{"index", "type", "text", "output_shape", "params", "weights"}], "n_params", "task",
    "n_classes", "n_targets", "input_shape", "features" (the input features of 2-D point data, else None),
    "output": {"layer", "loss", "fits", "choices"} | None,
    "warnings": [{"path", "message"}], "errors": [{"path", "message"}]}.
    """
    from .advice import advise
    from .model import normalize_model_spec
    errors: list[Problem] = []
    warnings: list[Problem] = []
    facts = _dataset_facts(dataset_spec, limits, errors) if dataset_spec is not None else None
    model = None
    try:
        model = normalize_model_spec(model_spec, (facts or {}).get("input_shape"))
    except SpecError as e:
        errors.extend(e.problems)
    if model and model.get("type") == "knn":
        return _knn_summary(model, model_spec, dataset_spec, facts, limits, errors)
    if model:   # an output layer's null units: the dataset's number, shown in the rows
        from .advice import resolve_null_units
        unresolved = resolve_null_units(model, *(facts.get(k) for k in ("task", "n_classes", "n_targets"))
                                        if facts else (None, None, None))
        if unresolved:
            errors.extend(unresolved)
            model = None
    rows = _layer_rows(model, errors) if model else []
    if model and facts:
        try:  # everything POST /api/jobs would refuse (limits, output vs task and targets, data checks)
            normalize({"dataset": dataset_spec, "model": model_spec}, limits)
        except SpecError as e:
            errors.extend(e.problems)
    if model:
        warnings.extend(advise({"model": model, "dataset": dataset_spec or {}}))
        warnings.extend(structure_notes(model, (facts or {}).get("features"), (facts or {}).get("task")))
    known = [r["params"] for r in rows if r["params"] is not None]
    return {"layers": rows, "n_params": int(sum(known)),
            "task": (facts or {}).get("task"), "n_classes": (facts or {}).get("n_classes"),
            "n_targets": (facts or {}).get("n_targets"), "input_shape": model["input_shape"] if model else None,
            "features": (facts or {}).get("features"),
            "output": _output_fit(model, facts) if model and facts else None,
            "warnings": _dedupe(warnings), "errors": _dedupe(errors)}
