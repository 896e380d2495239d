"""The request schemas are generated from the engine's registries: /openapi.json documents every option
with its range and default, types are strict, and nothing the engine accepts is refused."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

import engine
from engine.datasets import DATASETS
from engine.preprocessing import PREPROCESSORS
from server.schemas import JobCreate
from server_support import tiny_spec

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.json"))
FAMILIES = {"Activation": engine.ACTIVATIONS, "Initializer": engine.INITIALIZERS, "Layer": engine.LAYERS,
            "Loss": engine.LOSSES, "Optimizer": engine.OPTIMIZERS, "Schedule": engine.SCHEDULES,
            "Dataset": DATASETS, "Preprocessing": PREPROCESSORS}


def component(name: str) -> str:
    """OptimizerAdam, LayerDense, DatasetXorGate, ... (server/schemas.py entry_model)."""
    return "".join(part.title() for part in name.replace("^", "_").split("_"))


@pytest.fixture(scope="module")
def openapi():
    from fastapi.testclient import TestClient

    from server.main import create_app
    return TestClient(create_app(), base_url="http://127.0.0.1").get("/openapi.json").json()  # no lifespan needed


def param(registry, entry: str, name: str):
    return next(p for p in registry.get(entry).options if p.name == name)


def test_openapi_shows_adams_beta_1_with_its_range_and_default(openapi):
    schemas = openapi["components"]["schemas"]
    beta_1 = schemas["OptimizerAdam"]["properties"]["beta_1"]
    p = param(engine.OPTIMIZERS, "adam", "beta_1")
    assert (beta_1["type"], beta_1["minimum"], beta_1["maximum"], beta_1["default"]) == ("number", p.min, p.max,
                                                                                        p.default)
    optimizer = json.dumps(schemas["TrainingSpec"]["properties"]["optimizer"])
    for name in engine.OPTIMIZERS.names():  # the union lists every optimizer
        assert f"#/components/schemas/Optimizer{component(name)}" in optimizer
    assert "exclusiveMinimum" in schemas["OptimizerSgd"]["properties"]["learning_rate"]


def test_openapi_shows_dense_units_with_min_and_max(openapi):
    units = openapi["components"]["schemas"]["LayerDense"]["properties"]["units"]
    p = param(engine.LAYERS, "dense", "units")
    # null is allowed too: an output layer's units taken from the dataset
    number = next(s for s in units["anyOf"] if s.get("type") == "integer")
    assert {"type": "null"} in units["anyOf"]
    assert (number["type"], number["minimum"], number["maximum"]) == ("integer", p.min, p.max)
    layers = json.dumps(openapi["components"]["schemas"]["ModelSpec"]["properties"]["layers"])
    assert all(f"Layer{component(name)}" in layers for name in engine.LAYERS.names())


@pytest.mark.parametrize("family", FAMILIES)
def test_every_registry_entry_has_its_own_documented_schema(openapi, family):
    schemas = openapi["components"]["schemas"]
    for name, entry in FAMILIES[family].items():
        schema = schemas[f"{family}{component(name)}"]
        key = FAMILIES[family].key
        assert schema["properties"][key]["const"] == name
        assert set(schema["properties"]) >= {p.name for p in entry.options} - {"path", "download"}


def test_a_dense_activation_is_a_name_or_a_name_with_options(openapi):
    activation = json.dumps(openapi["components"]["schemas"]["LayerDense"]["properties"]["activation"])
    assert '"enum": ["linear"' in activation and "ActivationLeakyRelu" in activation


@pytest.mark.parametrize("path,value", [
    ("training.epochs", "10"), ("training.epochs", True), ("training.epochs", 10.5),
    ("model.layers.0.units", "4"), ("model.layers.0.units", False),
    ("training.optimizer.learning_rate", "0.05"), ("training.optimizer.learning_rate", True),
    ("stream.boundary", 1), ("stream.boundary", "true"), ("dataset.noise", "0.1"),
])
def test_wrong_json_types_are_refused_not_coerced(client, path, value):
    r = client.post("/api/jobs", json=with_(path, value))
    assert r.status_code == 422, r.text
    body = r.json()
    assert path in [d["field"] for d in body["detail"]], body
    assert f"{path}: " in body["message"] and f"got {json.dumps(value)}" in body["message"]


def with_(path: str, value, spec: dict | None = None) -> dict:
    spec = copy.deepcopy(spec or tiny_spec())
    *parents, last = path.split(".")
    node = spec
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return spec


@pytest.mark.parametrize("path,value", [
    ("training.optimizer.learning_rate", 1),        # an int where a float is asked
    ("model.layers.0.units", 4.0),                  # a whole float where an int is asked (the engine's rule)
    ("model.layers.0.activation", {"name": "leaky_relu", "alpha": 0.2}),
    ("model.layers.0.kernel_initializer", {"name": "random_normal", "stddev": 0.5}),
    ("model.loss", {"name": "categorical_crossentropy"}),
    ("training.optimizer", "adam"),                 # a bare name, like an activation
    ("training.optimizer", {}),                     # no name: the registry's default (sgd)
    ("training.optimizer", {"learning_rate": 0.1}),
    ("training.lr_schedule", {}),                   # constant
    ("training.lr_schedule", "cosine"),
])
def test_what_the_engine_accepts_pydantic_accepts(path, value):
    spec = with_(path, value)
    assert engine.validate(spec) == []
    JobCreate.model_validate(spec)


def test_inline_data_keys_are_accepted():
    for dataset in ({"name": "inline", "x": [[0, 0], [1, 1], [0, 1], [1, 0]], "y": [0, 0, 1, 1]},
                    {"name": "inline", "csv": "a,b,label\n0,0,0\n1,1,0\n0,1,1\n1,0,1\n"}):
        JobCreate.model_validate(with_("dataset", dataset))


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_spec_is_accepted(example):
    spec = json.loads(example.read_text())
    JobCreate.model_validate(spec)
    assert engine.validate(spec) == []


@pytest.mark.parametrize("path,value,field,words", [
    ("model.layers.0.units", 0, "model.layers.0.units", ["greater than or equal to 1", "got 0"]),
    ("model.layers.0.type", "transformer", "model.layers.0.type", ["dense", "conv2d"]),
    ("model.layers.0.activation", "swishy", "model.layers.0.activation", ["relu", 'got "swishy"']),
    ("model.layers.0.activation", {"name": "leaky_relu", "alpha": 5}, "model.layers.0.activation.alpha", ["1"]),
    ("model.layers.0.activation", {"name": "swishy"}, "model.layers.0.activation.name", ["leaky_relu"]),
    ("training.optimizer", {"name": "adam", "beta_1": 2}, "training.optimizer.beta_1", ["less than or equal"]),
    ("training.optimizer", {"name": "lion"}, "training.optimizer.name", ["adam"]),
    ("training.optimizer", {"name": "adam", "momentum": 0.9}, "training.optimizer.momentum", ["not permitted"]),
    ("dataset", {"name": "imagenet"}, "dataset.name", ["spiral", "mnist"]),
    ("dataset.n_samples", 5, "dataset.n_samples", ["greater than or equal to 10"]),
])
def test_422s_name_the_field_without_pydantics_branch_labels(client, path, value, field, words):
    r = client.post("/api/jobs", json=with_(path, value))
    assert r.status_code == 422, r.text
    fields = [d["field"] for d in r.json()["detail"]]
    assert fields == [field], r.json()
    for word in words:
        assert word in r.json()["message"], r.json()["message"]


CATALOG_KEYS = {"Activation": "activations", "Initializer": "initializers", "Layer": "layers", "Loss": "losses",
                "Optimizer": "optimizers", "Schedule": "schedules", "Dataset": "datasets",
                "Preprocessing": "preprocessing"}


@pytest.mark.parametrize("family", FAMILIES)
def test_catalog_and_openapi_give_every_option_the_same_default_and_range(client, openapi, family):
    catalog = client.get("/api/catalog").json()[CATALOG_KEYS[family]]
    assert set(catalog) == set(FAMILIES[family].names())
    for name, described in catalog.items():
        assert {"doc", "params"} <= set(described)
        properties = openapi["components"]["schemas"][f"{family}{component(name)}"]["properties"]
        for p in described["params"]:
            if p["name"] in ("path", "download"):  # server-side files: never over the API
                assert p["name"] not in properties
                continue
            field = properties[p["name"]]
            assert field.get("default") == p["default"], (name, p["name"])
            if p["type"] in ("int", "float"):
                low = "exclusiveMinimum" if p["min_exclusive"] else "minimum"
                bounds = field if "anyOf" not in field else next(s for s in field["anyOf"] if s.get("type") != "null")
                assert (bounds.get(low), bounds.get("maximum")) == (p["min"], p["max"]), (name, p["name"])


def test_request_and_response_models_live_in_server_schemas():
    routers = Path(__file__).resolve().parents[2] / "server" / "routers"
    for module in sorted(routers.glob("*.py")):
        source = module.read_text()
        assert "BaseModel" not in source and "create_model" not in source, module.name
