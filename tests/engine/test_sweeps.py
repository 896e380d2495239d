"""engine/sweeps.py, search_space.py, halving.py: seeded trials, log-uniform draws, grids, path errors,
every trial validated before anything runs, successive halving by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest

import engine
from engine.errors import SpecError
from engine.halving import EARLY_TERMINATION, best_so_far, halving_stops, rung_cutoff
from engine.metrics import epoch_metrics
from engine.search_space import DISTRIBUTIONS, METHODS, make_distribution
from engine.sweeps import apply_parameter, narrowed_sweep, plan_sweep

LR = "training.optimizer.learning_rate"
L2 = "training.regularization.l2"


def base(epochs: int = 3) -> dict:
    return {"dataset": {"name": "spiral", "n_samples": 100, "seed": 1},
            "model": {"layers": [{"type": "dense", "units": 8, "activation": "tanh"},
                                 {"type": "dense", "units": 2, "activation": "softmax"}],
                      "loss": "categorical_crossentropy"},
            "training": {"optimizer": {"name": "adam", "learning_rate": 0.01}, "epochs": epochs}}


def body(**kw) -> dict:
    out = {"base": base(), "method": "random", "n_trials": 12, "seed": 0,
           "parameters": {LR: {"distribution": "log_uniform", "min": 1e-4, "max": 1e-1},
                          L2: {"distribution": "log_uniform", "min": 1e-5, "max": 1.0},
                          "model.layers.0.units": {"values": [4, 8, 16]}}}
    out.update(kw)
    return out


def problems(b: dict) -> dict:
    with pytest.raises(SpecError) as e:
        plan_sweep(b)
    return {p.path: p.message for p in e.value.problems}


def test_same_sweep_draws_the_same_trials_and_another_seed_does_not():
    _, a = plan_sweep(body())
    _, b = plan_sweep(body())
    _, c = plan_sweep(body(seed=1))
    assert [t.params for t in a] == [t.params for t in b]
    assert [t.params for t in a] != [t.params for t in c]
    reordered = body()
    reordered["parameters"] = dict(reversed(list(reordered["parameters"].items())))
    assert [t.params for t in plan_sweep(reordered)[1]] == [t.params for t in a]


def test_each_trial_spec_carries_its_params_and_is_normalized():
    sweep, trials = plan_sweep(body())
    assert len(trials) == 12 and sweep["metric"] == "test_accuracy" and sweep["goal"] == "maximize"
    for t in trials:
        assert t.spec["training"]["optimizer"]["learning_rate"] == t.params[LR]
        assert t.spec["training"]["regularization"]["l2"] == t.params[L2]
        assert t.spec["model"]["layers"][0]["units"] == t.params["model.layers.0.units"]
        assert t.spec == engine.normalize(t.spec)


def test_log_uniform_stays_in_bounds_and_is_uniform_per_decade():
    draws = np.array(DISTRIBUTIONS.build({"distribution": "log_uniform", "min": 1e-4, "max": 1e-1}, "p")
                     .sample(np.random.default_rng(0), 3000))
    assert draws.min() >= 1e-4 and draws.max() <= 1e-1
    per_decade = np.histogram(np.log10(draws), bins=[-4, -3, -2, -1])[0] / len(draws)
    assert np.all(np.abs(per_decade - 1 / 3) < 0.04), per_decade  # a linear draw puts ~1% in [1e-4, 1e-3]


def test_int_uniform_draws_whole_numbers_including_both_ends():
    draws = DISTRIBUTIONS.build({"distribution": "int_uniform", "min": 4, "max": 6}, "p").sample(
        np.random.default_rng(0), 300)
    assert set(draws) == {4, 5, 6} and all(type(v) is int for v in draws)


def test_grid_is_the_product_of_log_spaced_points():
    _, trials = plan_sweep(body(method="grid", n_trials=9, parameters={
        LR: {"distribution": "log_uniform", "min": 1e-4, "max": 1e-1},
        L2: {"distribution": "log_uniform", "min": 1e-4, "max": 1.0}}))
    assert len(trials) == 9
    assert sorted({t.params[LR] for t in trials}) == [1e-4, 0.003162, 0.1]   # 10^-4, 10^-2.5, 10^-1
    assert sorted({t.params[L2] for t in trials}) == [1e-4, 0.01, 1.0]
    assert len({(t.params[LR], t.params[L2]) for t in trials}) == 9


def test_grid_is_capped_at_n_trials():
    parameters = {LR: {"values": [0.001, 0.01, 0.1, 0.3]}, L2: {"values": [0, 0.001, 0.01, 0.1]}}
    trials = METHODS.get("grid")({k: make_distribution(v, k, 50) for k, v in parameters.items()}, 10, 0)
    assert len(trials) == 10 and len({tuple(t.values()) for t in trials}) == 10


def test_a_path_the_spec_does_not_have_is_named():
    found = problems(body(parameters={"training.optimizer.momentum": {"values": [0.9]}}))
    assert "training.optimizer has no 'momentum'" in found["parameters.training.optimizer.momentum"]
    found = problems(body(parameters={"model.layers.5.units": {"values": [4]}}))
    assert "model.layers has no '5'" in found["parameters.model.layers.5.units"]
    found = problems(body(parameters={"training.optimizer": {"values": ["sgd"]}}))
    assert "whole section" in found["parameters.training.optimizer"]
    with pytest.raises(SpecError):
        apply_parameter(base(), "dataset.nope", 1)


def test_one_bad_trial_refuses_the_sweep_naming_the_parameter():
    # 4.5 units is not a whole number: the min and max are fine, the draws between them are not
    found = problems(body(parameters={"model.layers.0.units": {"distribution": "uniform", "min": 4, "max": 9}}))
    assert list(found) == ["parameters.model.layers.0.units"] and "whole number" in found[
        "parameters.model.layers.0.units"] and found["parameters.model.layers.0.units"].startswith("trial ")


def test_range_ends_past_the_setting_limits_are_refused():
    found = problems(body(parameters={LR: {"distribution": "log_uniform", "min": 1e-3, "max": 1000}}))
    assert "parameters.training.optimizer.learning_rate.max" in found


@pytest.mark.parametrize("bad, field", [
    ({"n_trials": 10_000}, "n_trials"), ({"max_parallel": 99}, "max_parallel"), ({"method": "bayes"}, "method"),
    ({"goal": "up"}, "goal"), ({"metric": "val_accuracy"}, "metric"), ({"extra": 1}, "extra"),
    ({"parameters": {}}, "parameters"),
    ({"parameters": {LR: {"distribution": "log_uniform", "min": 0, "max": 1}}}, f"parameters.{LR}.min"),
    ({"parameters": {LR: {"distribution": "uniform", "min": 0.5, "max": 0.1}}}, f"parameters.{LR}.max"),
    ({"parameters": {LR: {"distribution": "normal", "min": 0.5, "max": 0.1}}}, f"parameters.{LR}.distribution"),
    ({"parameters": {LR: {"values": []}}}, f"parameters.{LR}.values"),
    ({"parameters": {LR: {"values": [[1]]}}}, f"parameters.{LR}.values.0"),
    ({"early_termination": {"name": "halving", "min_epochs": 3}}, "early_termination.min_epochs"),
    ({"early_termination": {"name": "median"}}, "early_termination.name"),
])
def test_bad_sweep_options_are_named(bad, field):
    assert field in problems(body(**bad))


def test_bad_base_is_reported_under_base():
    b = body()
    b["base"]["model"]["layers"][0]["units"] = 0
    assert "base.model.layers.0.units" in problems(b)
    b = body()
    b["base"]["training"]["epochs"] = None
    assert "base.training.epochs" in problems(b)


def test_metric_follows_what_the_epochs_report():
    b = body(metric="val_loss")
    b["base"]["training"]["validation_split"] = 0.2
    sweep, _ = plan_sweep(b)
    assert sweep["metric"] == "val_loss" and sweep["goal"] == "minimize"
    b = body()
    b["base"]["training"]["validation_split"] = 0.2
    assert plan_sweep(b)[0]["metric"] == "val_accuracy"   # the default: the validation score when there is one


def test_epoch_metrics_are_the_keys_the_trainer_writes():
    spec = base(epochs=1)
    spec["training"]["validation_split"] = 0.2
    record = engine.train(spec).history[-1]
    listed = epoch_metrics("classification", validation=True, test=True)
    assert set(listed) == {k for k in record if k.endswith(("_loss", "_accuracy", "_r2"))}


def test_narrowed_sweep_centres_on_the_best_in_log_space():
    sweep, _ = plan_sweep(body())
    nxt = narrowed_sweep(sweep, {LR: 1e-3, L2: 1e-5, "model.layers.0.units": 8})
    assert nxt["parameters"][LR] == {"distribution": "log_uniform", "min": 0.0001778, "max": 0.005623}
    # centred on 10^-3 with half the width (3 decades -> 1.5), rounded to 4 significant digits
    assert math.isclose(math.log10(nxt["parameters"][LR]["max"]) - math.log10(nxt["parameters"][LR]["min"]), 1.5,
                        abs_tol=1e-3)
    assert nxt["parameters"][L2]["min"] == 1e-5       # at the edge: shifted inside the old range
    assert nxt["parameters"]["model.layers.0.units"] == {"values": [4, 8, 16]} and nxt["seed"] == 1
    plan_sweep(nxt)                                   # the proposal is itself a valid sweep


# -- successive halving, by hand --------------------------------------------------------------------
def test_halving_keeps_the_best_third_of_a_rung():
    values = {"a": 0.9, "b": 0.5, "c": 0.7, "d": 0.8, "e": 0.6, "f": 0.4}
    # 6 trials, r = 3: ceil(6 / 3) = 2 go on, the 2nd best (0.8) is the cutoff
    assert rung_cutoff(list(values.values()), "maximize", 3) == 0.8
    assert halving_stops(values, "maximize", 3) == ["b", "c", "e", "f"]
    # losses: 3 trials, r = 3 -> 1 goes on (0.1)
    assert halving_stops({"a": 0.3, "b": 0.1, "c": 0.2}, "minimize", 3) == ["a", "c"]
    assert halving_stops({"a": float("nan"), "b": 0.5}, "maximize", 2) == ["a"]


def test_asynchronous_halving_judges_each_arrival_against_the_rung_so_far():
    rule = EARLY_TERMINATION.build({"name": "halving", "min_epochs": 5, "reduction_factor": 2}, "e")
    assert rule.rungs(50) == [5, 10, 20, 40] and rule.rungs(40) == [5, 10, 20]
    # arrivals at rung 5 (r = 2): 0.5 alone goes on; 0.4 < best of 2 (0.5) stops; 0.6 with 3 recorded:
    # ceil(3/2) = 2nd best = 0.5, goes on; 0.45 with 4: 2nd best 0.5, stops
    assert [rule.judge(5, v, "maximize") for v in (0.5, 0.4, 0.6, 0.45)] == [
        (True, 0.5), (False, 0.5), (True, 0.5), (False, 0.5)]


def test_best_so_far_reads_through_the_rung_only():
    records = [{"epoch": 1, "test_accuracy": 0.5}, {"epoch": 2, "test_accuracy": 0.7},
               {"epoch": 3, "test_accuracy": 0.9}]
    assert best_so_far(records, "test_accuracy", "maximize", through=2) == (0.7, 2)
    assert best_so_far(records, "test_accuracy", "minimize") == (0.5, 1)
    assert best_so_far(records, "val_loss", "minimize") is None


def test_catalog_lists_the_sweep_options_and_limits():
    cat = engine.catalog()
    assert set(cat["sweeps"]["distributions"]) == {"log_uniform", "uniform", "int_uniform"}
    assert cat["sweeps"]["distributions"]["log_uniform"]["scale"] == "log"
    assert "halving" in cat["sweeps"]["early_termination"]
    assert cat["limits"]["max_sweep_trials"] == 100 and cat["limits"]["max_sweep_parallel"] == 8
    suggested = {s["path"]: s for s in cat["sweeps"]["suggested"]}
    parameters = {p: {k: suggested[p][k] for k in ("distribution", "min", "max")} for p in (LR, L2)}
    sweep, trials = plan_sweep({"base": cat["sweeps"]["base"], "parameters": parameters})   # the page's first sweep
    assert len(trials) == sweep["n_trials"] and sweep["metric"] == "test_accuracy"
