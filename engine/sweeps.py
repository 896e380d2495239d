"""Hyperparameter sweeps: the sweep spec, its trials (seeded), and the next, narrower sweep.

plan_sweep(body, limits) -> (sweep, trials) checks everything before anything runs: the sweep's options
(SWEEP_OPTIONS), each parameter's path into the normalized base job spec and its distribution
(engine/search_space.py), the metric against what the base's epochs report (engine.metrics.epoch_metrics),
early termination (engine/halving.py), and every trial's job spec with engine.normalize. Any problem is a
SpecError naming `base.<field>`, `parameters.<path>[.min|.max|.values]`, `metric`, ... so one bad trial
refuses the whole sweep.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

from .errors import Problem, SpecError
from .halving import EARLY_TERMINATION, GOALS
from .limits import DEFAULT_LIMITS, Limits
from .metrics import METRIC_NAMES, epoch_metrics
from .params import Param, resolve_params
from .search_space import DISTRIBUTIONS, METHODS, Range, describe, make_distribution

SWEEP_OPTIONS = [
    Param("method", "choice", "random", choices=tuple(METHODS), help="random: each setting drawn on its own; grid: "
                                                              "the product of k points per range"),
    Param("n_trials", "int", 9, 1, None, help="trials (jobs); a grid is capped at this many (max_sweep_trials)"),
    Param("metric", "choice", None, choices=METRIC_NAMES, nullable=True,
          help="what ranks trials; empty = val score, else test score, else train score"),
    Param("goal", "choice", None, choices=GOALS, nullable=True, help="empty = minimize a loss, maximize a score"),
    Param("seed", "int", 0, 0, 2**31 - 1, help="same seed, same trials"),
    Param("max_parallel", "int", 2, 1, None, help="trials running at once; the rest wait in the sweep "
                                                  "(max_sweep_parallel)"),
]
TOP_KEYS = ("base", "parameters", "early_termination", *(p.name for p in SWEEP_OPTIONS))
MAX_TRIAL_PROBLEMS = 5  # a sweep whose trials all fail reports the first few, not a hundred copies

# settings worth sweeping and the ranges the lectures start from; the /sweeps page offers these
SUGGESTED = [
    {"path": "training.optimizer.learning_rate", "label": "learning rate",
     "distribution": "log_uniform", "min": 1e-4, "max": 1e-1},
    {"path": "training.regularization.l2", "label": "L2", "distribution": "log_uniform", "min": 1e-5, "max": 1.0},
    {"path": "training.regularization.l1", "label": "L1", "distribution": "log_uniform", "min": 1e-6, "max": 1e-1},
    {"path": "training.batch_size", "label": "batch size", "distribution": "int_uniform", "min": 4, "max": 128},
    {"path": "model.layers.{i}.units", "label": "units, layer {n}", "values": [4, 8, 16, 32],
     "hidden_layers": True},
]
# the /sweeps page's first base: the lectures' spiral, a few epochs per trial (rate and L2 decide the result)
DEFAULT_BASE = {
    "dataset": {"name": "spiral", "n_samples": 300, "noise": 0.1, "test_ratio": 0.5, "seed": 1},
    "model": {"layers": [{"type": "dense", "units": 16, "activation": "tanh"},
                         {"type": "dense", "units": 16, "activation": "tanh"},
                         {"type": "dense", "units": 2, "activation": "softmax"}],
              "loss": "categorical_crossentropy"},
    "training": {"optimizer": {"name": "adam", "learning_rate": 0.01}, "batch_size": 10, "epochs": 20},
}


@dataclass
class Trial:
    index: int
    params: dict   # {path: value}
    spec: dict     # the normalized job spec it trains


def get_path(spec: dict, path: str):
    """The value at a dotted path ("model.layers.0.units"); KeyError naming the first missing part."""
    node = spec
    for depth, part in enumerate(path.split(".")):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            where = ".".join(path.split(".")[:depth]) or "the job spec"
            has = (f"it has {', '.join(map(str, node))}" if isinstance(node, dict) and node else
                   f"it has {len(node)} entries" if isinstance(node, list) else f"it is {node!r}")
            raise KeyError(f"{where} has no {part!r} ({has})")
    return node


def apply_parameter(spec: dict, path: str, value) -> dict:
    """A copy of `spec` with `value` at `path`; SpecError at `parameters.<path>` when the spec has no such
    setting (the path must name a setting the normalized spec already has, not a section or a list)."""
    field = f"parameters.{path}"
    try:
        current = get_path(spec, path)
    except KeyError as e:
        raise SpecError(f"the job spec has no setting {path}: {e.args[0]}", field) from None
    if isinstance(current, (dict, list)):
        raise SpecError(f"{path} is a whole section, not one setting; name a setting inside it", field)
    out = copy.deepcopy(spec)
    *parents, last = path.split(".")
    node = out
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[int(last) if isinstance(node, list) else last] = value
    return out


def default_metric(available: list[str]) -> str:
    """val score, else test score, else train score (the second name of each split pair)."""
    scores = [m for m in available if not m.endswith("_loss")]
    return next((m for prefix in ("val_", "test_", "train_") for m in scores if m.startswith(prefix)))


def _normalize(spec: dict, limits: Limits, prefix: str) -> dict:
    from .spec import normalize
    try:
        return normalize(spec, limits)
    except SpecError as e:
        raise SpecError([Problem(f"{prefix}.{p.path}" if p.path else prefix, p.message) for p in e.problems]) from None


def _metrics(base: dict, limits: Limits) -> list[str]:
    from .spec import prepare_dataset
    _, facts = prepare_dataset(base["dataset"], limits)
    validation = bool(base["training"].get("validation_split")) or facts.has_validation
    return epoch_metrics(facts.task, validation, facts.has_test)


def normalize_sweep(body: object, limits: Limits = DEFAULT_LIMITS) -> dict:
    """The sweep with every default filled (base normalized, distributions checked); SpecError otherwise."""
    if not isinstance(body, dict):
        raise SpecError("a sweep must be an object", "")
    problems = [Problem(k, f"unknown key; allowed: {', '.join(TOP_KEYS)}") for k in body if k not in TOP_KEYS]
    if not isinstance(body.get("base"), dict):
        problems.append(Problem("base", "is required: the job spec every trial starts from"))
    try:
        options = resolve_params(SWEEP_OPTIONS, {k: v for k, v in body.items() if k in TOP_KEYS[3:]}, "")
    except SpecError as e:
        problems.extend(Problem(p.path.lstrip("."), p.message) for p in e.problems)
        options = {}
    problems.extend(_limit_problems(options, limits))
    if problems:
        raise SpecError(problems)
    base = _normalize(body["base"], limits, "base")
    if not base["training"].get("epochs"):
        raise SpecError("a sweep's trials need a fixed number of epochs (a few per trial)", "base.training.epochs")
    sweep = {"base": base, **options, "parameters": _parameters(body.get("parameters"), limits),
             "early_termination": _early_termination(body.get("early_termination"), base["training"]["epochs"])}
    available = _metrics(base, limits)
    if sweep["metric"] is None:
        sweep["metric"] = default_metric(available)
    elif sweep["metric"] not in available:
        raise SpecError(f"{sweep['metric']} is not computed for this job; its epochs report "
                        f"{', '.join(available)}", "metric")
    if sweep["goal"] is None:
        sweep["goal"] = "minimize" if sweep["metric"].endswith("_loss") else "maximize"
    return sweep


def _limit_problems(options: dict, limits: Limits) -> list[Problem]:
    out = []
    for key, cap in (("n_trials", limits.max_sweep_trials), ("max_parallel", limits.max_sweep_parallel)):
        if isinstance(options.get(key), int) and options[key] > cap:
            out.append(Problem(key, f"must be <= {cap} (max_sweep_{key.split('_')[-1]}), got {options[key]}"))
    return out


def _parameters(given: object, limits: Limits) -> dict:
    if not isinstance(given, dict) or not given:
        raise SpecError('must map at least one setting path to a distribution, e.g. {"training.optimizer.'
                        'learning_rate": {"distribution": "log_uniform", "min": 0.0001, "max": 0.1}}', "parameters")
    if len(given) > limits.max_sweep_parameters:
        raise SpecError(f"at most {limits.max_sweep_parameters} settings (max_sweep_parameters), got {len(given)}",
                        "parameters")
    out, problems = {}, []
    for path, spec in given.items():
        try:
            out[path] = make_distribution(spec, f"parameters.{path}", limits.max_sweep_values)
        except SpecError as e:
            problems.extend(e.problems)
    if problems:
        raise SpecError(problems)
    return out


def _early_termination(given: object, epochs: int) -> dict | None:
    if given is None:
        return None
    spec = EARLY_TERMINATION.normalize(given, "early_termination")
    if spec["min_epochs"] >= epochs:
        raise SpecError(f"must be below the trials' epochs ({epochs}), got {spec['min_epochs']}",
                        "early_termination.min_epochs")
    return spec


def _check_bounds(base: dict, parameters: dict, limits: Limits) -> None:
    """Each range's min and max must be settings the job accepts (a range past the setting's own limits is
    refused at parameters.<path>.min / .max, whatever the draws)."""
    from .spec import normalize
    problems = []
    for path, dist in parameters.items():
        if not isinstance(dist, Range):
            continue
        for end in ("min", "max"):
            try:
                normalize(apply_parameter(base, path, getattr(dist, end)), limits)
            except SpecError as e:
                problems.extend(Problem(f"parameters.{path}.{end}" if p.path == path else f"base.{p.path}",
                                        f"{getattr(dist, end)} is not allowed: {p.message}" if p.path == path
                                        else p.message) for p in e.problems)
    if problems:
        raise SpecError(problems)


def _trial_problems(trial_params: dict, index: int, error: SpecError) -> list[Problem]:
    """A trial's problems at `parameters.<path>` when they are at a swept setting, else at `base.<field>`."""
    out = []
    shown = ", ".join(f"{k}={v}" for k, v in trial_params.items())
    for p in error.problems:
        path = next((k for k in trial_params if p.path == k or p.path.startswith(k + ".")), None)
        out.append(Problem(f"parameters.{path}" if path else f"base.{p.path}", f"trial {index} ({shown}): {p.message}"))
    return out


def plan_sweep(body: object, limits: Limits = DEFAULT_LIMITS) -> tuple[dict, list[Trial]]:
    """(normalized sweep as JSON, its trials with normalized job specs); SpecError before anything runs."""
    from .spec import normalize
    sweep = normalize_sweep(body, limits)
    parameters = sweep["parameters"]
    for path in parameters:
        apply_parameter(sweep["base"], path, None)  # the path exists (else parameters.<path>)
    _check_bounds(sweep["base"], parameters, limits)
    draws = METHODS.get(sweep["method"])(parameters, sweep["n_trials"], sweep["seed"])
    trials, problems = [], []
    for i, params in enumerate(draws):
        spec = sweep["base"]
        for path, value in params.items():
            spec = apply_parameter(spec, path, value)
        try:
            trials.append(Trial(i, params, normalize(spec, limits)))
        except SpecError as e:  # one problem per field: the first trial that shows it
            seen = {p.path for p in problems}
            problems.extend(p for p in _trial_problems(params, i, e) if p.path not in seen)
            if len(problems) >= MAX_TRIAL_PROBLEMS:
                break
    if problems:
        raise SpecError(problems)
    sweep["parameters"] = {path: describe(d) for path, d in parameters.items()}
    return sweep, trials


def narrowed_sweep(sweep: dict, best_params: dict, factor: float = 0.5) -> dict:
    """The next sweep: every range `factor` as wide (in its scale: log for log_uniform) around the best
    trial's value and inside the old range; listed values kept; seed + 1 so the draws differ."""
    parameters = {}
    for path, spec in sweep["parameters"].items():
        if "values" in spec or path not in best_params:
            parameters[path] = spec
        else:
            dist = DISTRIBUTIONS.build(spec, f"parameters.{path}")
            parameters[path] = dist.narrowed(best_params[path], factor)
    keys = ("base", "method", "n_trials", "metric", "goal", "max_parallel", "early_termination")
    return {**{k: sweep[k] for k in keys}, "parameters": parameters, "seed": sweep["seed"] + 1}


def sweep_catalog() -> dict:
    """/api/catalog's "sweeps": the options, distributions, methods, early termination and suggestions."""
    return {"options": [p.to_json() for p in SWEEP_OPTIONS], "distributions": DISTRIBUTIONS.describe("scale"),
            "methods": METHODS.describe(), "early_termination": EARLY_TERMINATION.describe(),
            "metrics": list(METRIC_NAMES), "suggested": SUGGESTED, "base": DEFAULT_BASE}
