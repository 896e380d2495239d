"""Learning-rate schedules against their formulas."""
import math

import pytest

from engine.schedules import SCHEDULES, make_schedule


def test_step_schedule_multiplies_every_k_iterations():
    s = make_schedule({"name": "step", "factor": 0.5, "every": 100}, 1000)
    assert [s(0.1, i) for i in (0, 99, 100, 199, 200)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_exponential_schedule():
    s = make_schedule({"name": "exponential", "decay_rate": 0.5, "decay_steps": 10}, 100)
    assert s(1.0, 5) == pytest.approx(0.5 ** 0.5)


def test_cosine_schedule_defaults_to_whole_run_and_ends_at_alpha():
    s = make_schedule({"name": "cosine", "alpha": 0.1}, 200)
    assert s(1.0, 0) == pytest.approx(1.0)
    assert s(1.0, 100) == pytest.approx(0.55)
    assert s(1.0, 200) == pytest.approx(0.1) and s(1.0, 500) == pytest.approx(0.1)


@pytest.mark.parametrize("name", SCHEDULES.names())
def test_every_schedule_starts_at_the_base_rate_and_never_grows(name):
    s = make_schedule({"name": name}, 1000)
    rates = [s(0.2, i) for i in range(0, 1000, 50)]
    assert rates[0] == pytest.approx(0.2)
    assert all(b <= a + 1e-15 and b > 0 or name == "cosine" for a, b in zip(rates, rates[1:]))
    assert all(math.isfinite(r) for r in rates)


def test_unknown_schedule_lists_names():
    with pytest.raises(KeyError, match="cosine"):
        make_schedule({"name": "linear"}, 10)
