"""Every playground preset is a spec the engine accepts and trains (engine/presets.py)."""
from __future__ import annotations

import pytest

from engine.catalog import catalog
from engine.presets import PRESETS
from engine.spec import normalize
from engine.trainer import train


NETWORKS = [p for p in PRESETS if "layers" in p["spec"]["model"]]
KNNS = [p for p in PRESETS if p["spec"]["model"].get("type") == "knn"]


@pytest.mark.parametrize("preset", NETWORKS, ids=[p["name"] for p in NETWORKS])
def test_preset_validates_and_trains_a_few_epochs(preset):
    spec = {**preset["spec"], "training": {**preset["spec"]["training"], "epochs": 3},
            "stream": {"boundary": False, "histograms": False}}
    normalize(spec)
    result = train(spec)
    assert len(result.history) == 3 and all(r["train_loss"] == r["train_loss"] for r in result.history)


@pytest.mark.parametrize("preset", KNNS, ids=[p["name"] for p in KNNS])
def test_knn_preset_fits_in_one_record(preset):
    result = train({**preset["spec"], "stream": {"boundary": False, "histograms": False}})
    assert len(result.history) == 1 and 0.5 < result.history[0]["test_accuracy"] <= 1


def test_every_preset_is_a_network_or_a_knn_and_the_gallery_offers_both_baselines():
    assert len(NETWORKS) + len(KNNS) == len(PRESETS) and KNNS
    linear = [p for p in NETWORKS if len(p["spec"]["model"]["layers"]) == 1 and p["name"].startswith("linear")]
    assert sorted(p["spec"]["model"]["loss"] for p in linear) == \
        ["categorical_crossentropy", "hinge", "mean_squared_error"]


def test_k_1_on_the_noisy_circle_scores_lower_than_k_15():
    spec = {**next(p for p in KNNS if p["name"] == "knn_noisy")["spec"], "stream": {"boundary": False, "histograms": False}}
    acc = {k: train({**spec, "model": {**spec["model"], "k": k}}).history[0]["test_accuracy"] for k in (1, 15)}
    assert acc[1] < acc[15]


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


from engine.presets import SEQUENCE_PRESETS  # noqa: E402


@pytest.mark.parametrize("preset", SEQUENCE_PRESETS, ids=[p["name"] for p in SEQUENCE_PRESETS])
def test_sequence_preset_validates_and_trains_an_epoch_on_a_small_copy(preset):
    spec = {**preset["spec"], "dataset": {**preset["spec"]["dataset"], "n_samples": 64},
            "training": {**preset["spec"]["training"], "epochs": 1}}
    norm = normalize(spec)
    assert norm["model"]["layers"][-1]["units"] is not None      # taken from the data
    result = train(spec)
    assert len(result.history) == 1 and result.history[0]["train_loss"] == result.history[0]["train_loss"]
    assert 2 <= preset["text"].count(". ") + 1 <= 4


def test_sequence_presets_are_in_the_catalog_and_name_the_three_lessons():
    assert [p["name"] for p in catalog()["sequence_presets"]] == ["rnn_forgets", "lstm_remembers", "char_rnn"]
    cells = [p["spec"]["model"]["layers"][0]["type"] for p in SEQUENCE_PRESETS]
    assert cells == ["simple_rnn", "lstm", "lstm"]


def test_the_simple_rnn_preset_stays_near_chance_for_its_first_epochs():
    spec = SEQUENCE_PRESETS[0]["spec"]
    result = train({**spec, "dataset": {**spec["dataset"], "n_samples": 800},
                    "training": {**spec["training"], "epochs": 4}, "stream": {"histograms": False}})
    assert max(r["test_accuracy"] for r in result.history) < 0.7
