"""Registry: one register(name, doc=, params=) for classes and functions, one build(spec, path) for
"a name or {name, options}", one name attribute; every family reads alike."""
import pytest

import engine
from engine.datasets import DATASETS, FEATURES
from engine.errors import SpecError, UnknownNameError
from engine.params import Param
from engine.preprocessing import PREPROCESSORS
from engine.registry import Registry

FAMILIES = {"activation": engine.ACTIVATIONS, "initializer": engine.INITIALIZERS, "layer": engine.LAYERS,
            "loss": engine.LOSSES, "optimizer": engine.OPTIMIZERS, "schedule": engine.SCHEDULES,
            "dataset": DATASETS, "feature": FEATURES, "preprocessing": PREPROCESSORS}
ENTRIES = [(family, name) for family, reg in FAMILIES.items() for name in reg.names()]


def toy_registry() -> Registry:
    reg = Registry("toy", default="plain")

    @reg.register("plain")
    class Plain:
        """a class with no options"""
        def __init__(self, *args, **config):
            self.args, self.config = args, config

    @reg.register("scaled", doc="a function with one option", params=[Param("factor", "float", 2.0, 0, 10)])
    def scaled(x, factor):
        return x * factor

    return reg


@pytest.mark.parametrize("family,name", ENTRIES, ids=[f"{f}-{n}" for f, n in ENTRIES])
def test_every_entry_carries_its_name_doc_and_params(family, name):
    entry = FAMILIES[family].get(name)
    assert entry.name == name
    assert isinstance(entry.doc, str) and entry.doc
    assert isinstance(entry.options, list) and all(isinstance(p, Param) for p in entry.options)


def test_classes_and_functions_register_the_same_way():
    reg = toy_registry()
    plain, scaled = reg.get("plain"), reg.get("scaled")
    assert (plain.name, plain.doc, plain.options) == ("plain", "a class with no options", [])
    assert (scaled.name, scaled.doc, [p.name for p in scaled.options]) == ("scaled", "a function with one option",
                                                                           ["factor"])
    assert reg.build("plain", "toy").name == "plain"            # instances see the class's name
    assert reg.build({"name": "scaled", "factor": 3}, "toy", 5) == 15.0
    assert reg.build("scaled", "toy", 5) == 10.0                 # defaults filled


def test_an_options_attribute_instead_of_params_is_refused_loudly():
    reg = Registry("toy")
    with pytest.raises(TypeError, match="params"):
        @reg.register("old")
        class Old:
            options = [Param("alpha", "float", 0.1)]


def test_build_errors_name_the_field_path():
    reg = toy_registry()
    with pytest.raises(UnknownNameError, match="plain, scaled") as e:
        reg.build("nope", "model.thing")
    assert e.value.problems[0].path == "model.thing"
    with pytest.raises(UnknownNameError) as e:
        reg.build({"name": "nope"}, "model.thing")
    assert e.value.problems[0].path == "model.thing.name"
    with pytest.raises(SpecError) as e:
        reg.build({"name": "scaled", "factor": 11, "colour": "red"}, "model.thing", 1)
    assert sorted(p.path for p in e.value.problems) == ["model.thing.colour", "model.thing.factor"]


def test_the_default_entry_stands_for_null_and_a_missing_name():
    reg = toy_registry()
    assert reg.build(None, "toy").name == "plain"
    assert reg.normalize({}, "toy") == {"name": "plain"}
    assert engine.SCHEDULES.normalize(None, "training.lr_schedule") == {"name": "constant"}


def test_layers_are_named_by_type_and_weights_are_data_not_options():
    layer = engine.LAYERS.build({"type": "dense", "units": 3, "weights": {"W": [[1, 2, 3]]}}, "model.layers.0")
    assert layer.name == "dense" and layer.config["units"] == 3 and "weights" not in layer.config
    with pytest.raises(UnknownNameError) as e:
        engine.LAYERS.build({"type": "transformer"}, "model.layers.0")
    assert e.value.problems[0].path == "model.layers.0.type"


def test_a_registry_as_param_choices_follows_later_registrations():
    reg = Registry("toy")
    choice = Param("kind", "choice", "a", choices=reg)
    reg.register("a", doc="first")(lambda: None)
    assert choice.check("a", "x") == "a"
    reg.register("b", doc="second")(lambda: None)
    assert choice.check({"name": "b"}, "x") == {"name": "b"}
    assert choice.to_json()["choices"] == ["a", "b"]
    with pytest.raises(SpecError, match="a, b"):
        choice.check("c", "x")


def test_dataset_data_keys_are_read_by_the_entry_not_checked_as_options():
    entry, options = DATASETS.resolve({"name": "inline", "x": [[0, 1]], "y": [0], "features": ["x1"],
                                       "preprocessing": "standardize", "seed": 3}, "dataset")
    assert entry.name == "inline" and options["seed"] == 3 and not {"x", "y", "features"} & set(options)
    with pytest.raises(SpecError) as e:
        DATASETS.resolve({"name": "spiral", "x": [[0, 1]]}, "dataset")  # x is inline's, not spiral's
    assert [p.path for p in e.value.problems] == ["dataset.x"]
