"""Every playground preset is a spec the engine accepts and trains (engine/presets.py)."""
from __future__ import annotations

import pytest

from engine.catalog import catalog
from engine.presets import PRESETS
from engine.spec import normalize
from engine.trainer import train


@pytest.mark.parametrize("preset", PRESETS, ids=[p["name"] for p in PRESETS])
def test_preset_validates_and_trains_a_few_epochs(preset):
    spec = {**preset["spec"], "training": {**preset["spec"]["training"], "epochs": 3},
            "stream": {"boundary": False, "histograms": False}}
    normalize(spec)
    result = train(spec)
    assert len(result.history) == 3 and all(r["train_loss"] == r["train_loss"] for r in result.history)


def test_presets_have_a_title_and_two_or_three_sentences_and_are_in_the_catalog():
    for p in PRESETS:
        assert p["title"] and 2 <= p["text"].count(". ") + 1 <= 4, p["name"]
    assert [p["name"] for p in catalog()["presets"]] == [p["name"] for p in PRESETS]


def test_perceptron_preset_cannot_learn_xor_but_the_hidden_layer_preset_can():
    by = {p["name"]: p for p in PRESETS}
    def acc(name, epochs):
        s = by[name]["spec"]
        r = train({**s, "training": {**s["training"], "epochs": epochs}, "stream": {"boundary": False, "histograms": False}})
        return r.history[-1]["test_accuracy"]
    assert acc("perceptron_xor", 60) < 0.7
    assert acc("xor_hidden", 60) > 0.9
