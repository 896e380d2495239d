"""Response examples for /openapi.json that the engine computes, so a documented example never goes stale.

Each entry is a route (method, path), the request it answers (the request model's own example, when it has
one) and the engine call the route makes. `add_examples(schema)` runs them once, shortens long lists to
their first items (the shape stays, the docs stay readable) and puts each answer under the 200 response's
`example`. tests/server/test_openapi_docs.py checks that every route has one, and that each example has
the keys the live response has.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

log = logging.getLogger("nnplay.docs")
KEEP = 3           # items kept of a long list (a grid's rows, a catalog's entries)
MAX_STRING = 200   # characters kept of a long string


@dataclass(frozen=True)
class Example:
    request: Any                 # the body (or None for GET): what the live test sends too
    compute: Callable[[Any], Any]


def abridge(value: Any, keep: int = KEEP) -> Any:
    """`value` with every list cut to its first `keep` items and long strings cut, recursively."""
    if isinstance(value, dict):
        return {k: abridge(v, keep) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [abridge(v, keep) for v in list(value)[:keep]]
    if isinstance(value, str) and len(value) > MAX_STRING:
        return value[:MAX_STRING] + "..."
    return value


def _limits():
    from .settings import Settings

    return Settings().engine_limits()


def _summary(body: dict) -> dict:
    from engine.summary import summarize

    return summarize(body["model"], body.get("dataset"), _limits())


def _preview(body: dict) -> dict:
    from engine.preview import preview_model

    return preview_model(body, _limits())


def _catalog(_body) -> dict:
    from .routers.catalog import catalog_body
    from .settings import Settings

    return catalog_body(Settings())


def _expression(body: dict) -> dict:
    from engine.lessons.expression import differentiate

    return differentiate(body["expression"], body["values"], _limits())


def _backprop(body: dict) -> dict:
    from engine.lessons.backprop import backprop_step

    return backprop_step(body["model"], body["x"], body["y"], body["learning_rate"], None, _limits())


def _backprop_presets(_body) -> dict:
    from engine.lessons.backprop import NETWORK_PRESETS, SATURATED_NEURON
    from engine.lessons.expression import EXPRESSION_PRESETS
    from engine.lessons.ops import FUNCTIONS

    return {"expressions": EXPRESSION_PRESETS, "networks": NETWORK_PRESETS, "saturated_neuron": SATURATED_NEURON,
            "functions": list(FUNCTIONS)}


def _optimizers_catalog(_body) -> dict:
    from engine.lessons.optimizer_paths import lesson_catalog

    return lesson_catalog()


def _optimizer_paths(body: dict) -> dict:
    from engine.lessons.optimizer_paths import optimizer_paths

    return optimizer_paths(body)


def _momentum_phase(body: dict) -> dict:
    from engine.lessons.optimizer_paths import momentum_phase

    return momentum_phase(body)


def _initialization_catalog(_body) -> dict:
    from engine.lessons.initialization import OPTIONS, PRESETS

    return {"options": [p.to_json() for p in OPTIONS], "presets": PRESETS}


def _initialization(body: dict) -> dict:
    from engine.lessons.initialization import activation_statistics

    return activation_statistics(body)


def _autoencoder_options(_body) -> dict:
    from engine.autoencoder_layouts import OPTIONS, PART_FACTS, PARTS

    return {"options": [p.to_json() for p in OPTIONS], "parts": PARTS.describe(*PART_FACTS)}


def _autoencoder_layout(body: dict) -> dict:
    from engine.autoencoder_layouts import autoencoder_layout

    return autoencoder_layout(body)


def _schema_example(model_name: str) -> Any:
    from . import schemas

    return getattr(schemas, model_name).model_config["json_schema_extra"]["examples"][0]


def examples() -> dict[tuple[str, str], Example]:
    """(method, path) -> the request and the engine call whose answer is the documented example."""
    return {
        ("get", "/api/catalog"): Example(None, _catalog),
        ("post", "/api/models/summary"): Example(_schema_example("ModelSummaryRequest"), _summary),
        ("post", "/api/models/preview"): Example(_schema_example("ModelPreviewRequest"), _preview),
        ("post", "/api/lessons/expression"): Example(_schema_example("ExpressionRequest"), _expression),
        ("post", "/api/lessons/backprop"): Example(_schema_example("BackpropRequest"), _backprop),
        ("get", "/api/lessons/backprop/presets"): Example(None, _backprop_presets),
        ("get", "/api/lessons/optimizers"): Example(None, _optimizers_catalog),
        ("post", "/api/lessons/optimizers"): Example(
            {"surface": {"name": "rosenbrock"}, "start": [-1.5, 2], "steps": 20,
             "optimizers": [{"name": "sgd", "learning_rate": 0.001}, {"name": "adam", "learning_rate": 0.05}]},
            _optimizer_paths),
        ("post", "/api/lessons/optimizers/phase"): Example({"lr_count": 3, "momentum_count": 3}, _momentum_phase),
        ("get", "/api/models/autoencoder"): Example(None, _autoencoder_options),
        ("post", "/api/models/autoencoder"): Example(
            {"encoder": "conv", "encoder_sizes": [8, 16], "decoder": "conv", "decoder_sizes": [16, 8]},
            _autoencoder_layout),
        ("get", "/api/lessons/initialization"): Example(None, _initialization_catalog),
        ("post", "/api/lessons/initialization"): Example(
            {"layers": 4, "units": 50, "activation": "tanh", "initializer": {"name": "glorot_normal"}},
            _initialization),
    }


# routes whose answer needs a trained job (or sweep): written examples of their form
WRITTEN_EXAMPLES = {
    ("get", "/api/jobs/{job_id}/codes"): {
        "layer": 1, "units": 2, "split": "test", "codes": [[0.41, -1.2], [1.9, 0.07]], "labels": [3, 8],
        "label_names": None},
    ("post", "/api/jobs/{job_id}/decode"): {"layer": 2, "encoding": "numbers", "images": None,
                                            "outputs": [[0.12, 0.88], [0.71, 0.29]]},
    ("get", "/api/jobs/{job_id}/reconstructions"): {
        "n": 1, "encoding": "uint8", "height": 28, "width": 28, "originals": ["AAAAAA..."], "inputs": None,
        "reconstructions": ["AAAAAA..."], "errors": [0.021], "labels": [7], "label_names": None},
    ("get", "/api/jobs/{job_id}/sequences"): {"task": "regression", "dataset": "sine", "examples": [
        {"inputs": [0.0, 0.31, 0.59, 0.81], "target": [0.95], "prediction": [0.93]}]},
    ("get", "/api/sweeps"): {"items": [{
        "id": "9b2f61c0d4aa", "status": "completed", "created_at": 1764633600.0, "finished_at": 1764633660.0,
        "message": None, "method": "random", "n_trials": 9, "metric": "test_accuracy", "goal": "maximize",
        "seed": 0, "max_parallel": 2}], "total": 1},
    ("get", "/api/sweeps/{sweep_id}/narrowed"): {"sweep": {
        "method": "random", "n_trials": 9, "metric": "test_accuracy",
        "params": {"training.optimizer.learning_rate": {"low": 0.01, "high": 0.1, "log": True}}}},
}

# responses that are not JSON: a written example of their form
TEXT_EXAMPLES = {
    ("get", "/api/jobs/{job_id}/history", "text/csv"):
        "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate\n1,0.6931,0.52,0.6902,0.55,0.03\n",
    ("get", "/api/jobs/{job_id}/model", "application/octet-stream"):
        "(binary) an .npz archive: the weights, optimizer state, input pipeline and JSON spec; engine.load_model "
        "reads it",
}


@lru_cache(maxsize=1)
def computed_examples() -> dict[tuple[str, str], Any]:
    """Every example, computed once (about a second): the route's answer, abridged."""
    out = {}
    for key, example in examples().items():
        try:
            out[key] = abridge(example.compute(example.request))
        except Exception:  # noqa: BLE001  a broken example must not take /docs down; the test names it
            log.exception("could not compute the documented example of %s %s", *key)
    return out


def add_examples(schema: dict) -> dict:
    """Put the computed examples (and the written non-JSON ones) into an OpenAPI schema, in place."""
    paths = schema.get("paths", {})
    for (method, path), value in computed_examples().items():
        op = paths.get(path, {}).get(method)
        if op is None:
            continue
        content = op.setdefault("responses", {}).setdefault("200", {}).setdefault("content", {})
        content.setdefault("application/json", {})["example"] = value
    for (method, path), value in WRITTEN_EXAMPLES.items():
        op = paths.get(path, {}).get(method)
        if op is not None:
            op.setdefault("responses", {}).setdefault("200", {}).setdefault("content", {}) \
                .setdefault("application/json", {}).setdefault("example", value)
    for (method, path, media), text in TEXT_EXAMPLES.items():
        media_type = paths.get(path, {}).get(method, {}).get("responses", {}).get("200", {}).get("content", {})
        if media in media_type:
            media_type[media]["example"] = text
    return schema
