"""Every limit has one home (engine.Limits, plus the server's request settings) and is in the catalog."""
import dataclasses

import numpy as np
import pytest

import engine
from engine.errors import DataError
from engine.limits import DEFAULT_LIMITS, Limits
from engine.rasterize import rasterize_strokes


def test_catalog_lists_every_engine_limit():
    listed = engine.catalog()["limits"]
    assert set(listed) == {f.name for f in dataclasses.fields(Limits)}
    for name in ("max_stroke_points", "max_pen_travel", "max_inline_points", "max_units", "max_epochs"):
        assert listed[name] == getattr(DEFAULT_LIMITS, name)


def test_param_ranges_and_loaders_read_the_limits():
    from engine.datasets.base import toy_options
    from engine.layers import LAYERS
    units = next(p for p in LAYERS.get("dense").options if p.name == "units")
    assert units.max == DEFAULT_LIMITS.max_units
    n_samples = next(p for p in toy_options() if p.name == "n_samples")
    assert n_samples.max == DEFAULT_LIMITS.max_generated_points


def test_a_drawing_with_more_points_than_the_limit_is_refused_with_the_limit():
    n = DEFAULT_LIMITS.max_stroke_points + 1
    stroke = np.column_stack([np.linspace(0, 100, n), np.linspace(0, 100, n)]).tolist()
    with pytest.raises(DataError, match=f"at most {DEFAULT_LIMITS.max_stroke_points} points"):
        rasterize_strokes([stroke])


def test_a_scribble_past_the_pen_travel_limit_is_refused():
    zigzag = [[0, 0], [100, 100]] * 40                                    # travels ~80x the drawing's size
    with pytest.raises(DataError, match=f"at most {DEFAULT_LIMITS.max_pen_travel:g}"):
        rasterize_strokes([zigzag])


def test_catalog_lists_the_commands_with_the_learning_rate_range():
    commands = engine.catalog()["commands"]
    assert {"pause", "resume", "step", "cancel", "set"} <= set(commands)
    lr = next(p for p in commands["set"]["params"] if p["name"] == "learning_rate")
    from engine.optimizers import MAX_LEARNING_RATE
    assert lr["max"] == MAX_LEARNING_RATE


def test_catalog_gives_the_default_features_the_ui_starts_from():
    from engine.datasets import DEFAULT_FEATURES
    assert engine.catalog()["default_features"] == DEFAULT_FEATURES


def test_catalog_says_which_family_a_choice_comes_from_so_forms_can_offer_its_options():
    catalog = engine.catalog()
    params = {p["name"]: p for p in catalog["layers"]["dense"]["params"]}
    for name, family in (("activation", "activation"), ("kernel_initializer", "initializer")):
        assert params[name]["choices_from"] == family
        key = catalog["families"][family]
        assert set(params[name]["choices"]) == set(catalog[key])
    assert [p["name"] for p in catalog["initializers"]["random_normal"]["params"]] == ["mean", "stddev"]
