"""The optimizers lesson: surfaces (gradients, minima), paths taken by the engine's optimizers (checked
against each update rule by hand on Rosenbrock), divergence, presets, the momentum phase diagram and
custom expressions through the backprop lesson's parser."""
import numpy as np
import pytest

from engine.errors import SpecError
from engine.lessons.optimizer_paths import PRESETS, lesson_catalog, momentum_phase, optimizer_paths
from engine.lessons.surfaces import SURFACES, grid
from engine.optimizers import OPTIMIZERS

START = np.array([-1.2, 1.0])
ROSEN = SURFACES.get("rosenbrock")


@pytest.mark.parametrize("name", SURFACES.names())
def test_surface_gradient_matches_central_differences(name):
    s = SURFACES.get(name)
    rng = np.random.default_rng(0)
    (x0, x1), (y0, y1) = s.domain
    x, y, h = rng.uniform(x0, x1, 50), rng.uniform(y0, y1, 50), 1e-6
    gx, gy = s.gradient(x, y)
    nx = (s.value(x + h, y) - s.value(x - h, y)) / (2 * h)
    ny = (s.value(x, y + h) - s.value(x, y - h)) / (2 * h)
    scale = 1 + np.abs(nx) + np.abs(ny)
    assert np.max(np.abs(gx - nx) / scale) < 1e-6 and np.max(np.abs(gy - ny) / scale) < 1e-6


@pytest.mark.parametrize("name", SURFACES.names())
def test_known_minima_are_stationary_and_inside_the_domain(name):
    s = SURFACES.get(name)
    for mx, my in s.minimum:
        gx, gy = s.gradient(np.array([mx]), np.array([my]))
        assert abs(gx[0]) < 1e-4 and abs(gy[0]) < 1e-4
        assert s.domain[0][0] <= mx <= s.domain[0][1] and s.domain[1][0] <= my <= s.domain[1][1]
    assert s.domain[0][0] < s.start[0] < s.domain[0][1] and s.domain[1][0] < s.start[1] < s.domain[1][1]


def test_saddle_and_plane_have_no_minimum():
    assert SURFACES.get("saddle").minimum == [] and SURFACES.get("plane").minimum == []


def test_grid_rows_follow_y_and_columns_follow_x():
    g = grid(ROSEN, 10)
    z = np.array(g["z"])
    assert z.shape == (10, 10)
    assert z[3, 7] == pytest.approx(ROSEN.value(g["x"][7], g["y"][3]), abs=1e-6)


# ---- each update rule by hand (Keras' formulas), three steps on Rosenbrock from (-1.2, 1)
def grad(p):
    x, y = p
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def by_hand_sgd(lr, m=0.0, nesterov=False):
    p, v = START.copy(), np.zeros(2)
    for _ in range(3):
        g = grad(p)
        v = m * v - lr * g
        p = p + (m * v - lr * g if nesterov else v)
        yield p


def by_hand_adagrad(lr, acc0=0.1, eps=1e-7):
    p, acc = START.copy(), np.full(2, acc0)
    for _ in range(3):
        g = grad(p)
        acc = acc + g * g
        p = p - lr * g / (np.sqrt(acc) + eps)
        yield p


def by_hand_rmsprop(lr, rho=0.9, eps=1e-7):
    p, ms = START.copy(), np.zeros(2)
    for _ in range(3):
        g = grad(p)
        ms = rho * ms + (1 - rho) * g * g
        p = p - lr * g / (np.sqrt(ms) + eps)
        yield p


def by_hand_adam(lr, b1=0.9, b2=0.999, eps=1e-7):
    p, m, v = START.copy(), np.zeros(2), np.zeros(2)
    for t in (1, 2, 3):
        g = grad(p)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
        yield p


def by_hand_adadelta(lr, rho=0.95, eps=1e-7):
    p, acc_g, acc_d = START.copy(), np.zeros(2), np.zeros(2)
    for _ in range(3):
        g = grad(p)
        acc_g = rho * acc_g + (1 - rho) * g * g
        delta = np.sqrt(acc_d + eps) / np.sqrt(acc_g + eps) * g
        acc_d = rho * acc_d + (1 - rho) * delta * delta
        p = p - lr * delta
        yield p


HAND = [({"name": "sgd", "learning_rate": 0.001}, by_hand_sgd(0.001)),
        ({"name": "sgd", "learning_rate": 0.001, "momentum": 0.9}, by_hand_sgd(0.001, 0.9)),
        ({"name": "sgd", "learning_rate": 0.001, "momentum": 0.9, "nesterov": True}, by_hand_sgd(0.001, 0.9, True)),
        ({"name": "adagrad", "learning_rate": 0.5}, by_hand_adagrad(0.5)),
        ({"name": "rmsprop", "learning_rate": 0.01}, by_hand_rmsprop(0.01)),
        ({"name": "adam", "learning_rate": 0.05}, by_hand_adam(0.05)),
        ({"name": "adadelta", "learning_rate": 1.0}, by_hand_adadelta(1.0))]


@pytest.mark.parametrize("spec, expected", HAND, ids=lambda v: str(v.get("momentum", v["name"]))
                         if isinstance(v, dict) else "")
def test_first_steps_equal_the_update_rule_by_hand(spec, expected):
    out = optimizer_paths({"surface": {"name": "rosenbrock"}, "start": START.tolist(), "steps": 3,
                           "optimizers": [spec]})
    points = np.array(out["paths"][0]["points"])       # (4, 2): the start and three steps
    np.testing.assert_allclose(points[0], START)
    np.testing.assert_allclose(points[1:], np.array(list(expected)), rtol=1e-12, atol=1e-15)
    assert out["paths"][0]["losses"] == pytest.approx([float(ROSEN.value(*p)) for p in points])


def test_every_registered_optimizer_is_covered_by_a_hand_computed_path():
    assert {spec["name"] for spec, _ in HAND} == set(OPTIMIZERS.names())


def test_paths_are_normalised_and_start_together():
    out = optimizer_paths(PRESETS["comparison"]["request"])
    assert len(out["paths"]) == 7
    for path in out["paths"]:
        assert path["points"][0] == [-1.2, 1.0] and len(path["points"]) == 301 == len(path["losses"])
        assert path["diverged_at"] is None
    assert out["paths"][0]["optimizer"] == {"name": "sgd", "learning_rate": 0.001, "momentum": 0.0,
                                            "nesterov": False, "clipnorm": None, "clipvalue": None}
    assert set(out["surface"]) >= {"name", "domain", "minimum", "grid"}
    assert out["surface"]["minimum"] == [[1.0, 1.0]]


def test_momentum_reaches_the_terminal_velocity_lr_g_over_one_minus_beta():
    out = optimizer_paths(PRESETS["terminal_velocity"]["request"])
    for path in out["paths"]:
        beta, lr = path["optimizer"]["momentum"], path["optimizer"]["learning_rate"]
        pts = np.array(path["points"])
        steps = np.linalg.norm(np.diff(pts, axis=0), axis=1)       # (300,) step lengths; |g| = 1 on the plane
        assert steps[-1] == pytest.approx(lr * 1.0 / (1 - beta), rel=1e-6)
        if beta > 0:
            assert steps[0] == pytest.approx(lr)                   # it starts as plain SGD and speeds up
    speeds = [np.linalg.norm(np.diff(np.array(p["points"]), axis=0), axis=1)[-1] for p in out["paths"]]
    assert speeds[2] == pytest.approx(10 * speeds[0], rel=1e-6)    # beta 0.9: ten times plain SGD


def test_a_path_that_leaves_the_box_stops_with_diverged_at():
    out = optimizer_paths({"surface": {"name": "bowl"}, "start": [1.0, 1.0], "steps": 100,
                           "optimizers": [{"name": "sgd", "learning_rate": 5.0}, {"name": "sgd", "learning_rate": 0.1}]})
    bad, good = out["paths"]
    # x <- x (1 - 2 lr) = -9 x per step: |x| passes 1e6 at step 7
    assert bad["diverged_at"] == 7 and len(bad["points"]) == 7 == len(bad["losses"])
    assert all(np.isfinite(bad["losses"]))
    assert good["diverged_at"] is None and len(good["points"]) == 101


def test_unknown_surface_names_the_valid_ones():
    with pytest.raises(SpecError) as e:
        optimizer_paths({"surface": {"name": "volcano"}, "optimizers": [{"name": "sgd"}]})
    problem = e.value.problems[0]
    assert problem.path == "surface.name"
    for name in SURFACES.names():
        assert name in problem.message


def test_a_bad_optimizer_option_is_named_by_its_index():
    with pytest.raises(SpecError) as e:
        optimizer_paths({"surface": {"name": "bowl"}, "optimizers": [{"name": "sgd"}, {"name": "adam", "beta_1": 2}]})
    assert e.value.problems[0].path == "optimizers.1.beta_1"


def test_custom_expression_gives_the_same_paths_as_the_named_surface():
    named = optimizer_paths(PRESETS["comparison"]["request"] | {"steps": 20})
    typed = optimizer_paths(PRESETS["comparison"]["request"] | {"steps": 20, "surface": {
        "expression": "(1 - x)**2 + 100 * (y - x**2)**2", "domain": [[-2, 2], [-1, 3]]}})
    for a, b in zip(named["paths"], typed["paths"]):
        np.testing.assert_allclose(a["points"], b["points"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(named["surface"]["grid"]["z"], typed["surface"]["grid"]["z"], rtol=1e-9)
    assert typed["surface"]["name"] == "expression" and typed["surface"]["minimum"] == []


@pytest.mark.parametrize("text, says", [("sum(x) + y", "elementwise"), ("x @ y", "elementwise"), ("W * x", "unknown name 'W'"),
                                        ("__import__('os')", "not allowed"), ("x.__class__", "attributes")])
def test_custom_expression_refusals_are_reported_at_surface_expression(text, says):
    with pytest.raises(SpecError) as e:
        optimizer_paths({"surface": {"expression": text}, "optimizers": [{"name": "sgd"}]})
    assert e.value.problems[0].path.startswith("surface.expression") and says in e.value.problems[0].message


def test_a_custom_path_into_undefined_territory_ends_there():
    out = optimizer_paths({"surface": {"expression": "log(x + 3) + y**2"}, "start": [-1, 1], "steps": 50,
                           "optimizers": [{"name": "sgd", "learning_rate": 0.5}]})
    path = out["paths"][0]
    assert path["diverged_at"] is not None and len(path["points"]) == path["diverged_at"]
    assert min(x for x, _ in path["points"]) > -3 and all(np.isfinite(path["losses"]))


def test_momentum_phase_diagram_matches_single_runs():
    phase = momentum_phase({"surface": {"name": "ravine"}, "lr_count": 4, "momentum_count": 3, "lr_max": 1.0})
    assert len(phase["converged_at"]) == 3 and len(phase["converged_at"][0]) == 4
    for i, m in enumerate(phase["momentums"]):
        for j, lr in enumerate(phase["learning_rates"]):
            path = optimizer_paths({"surface": {"name": "ravine"}, "steps": 300, "optimizers": [
                {"name": "sgd", "learning_rate": lr, "momentum": m}]})["paths"][0]
            losses = np.array(path["losses"])
            hit = np.flatnonzero(losses < phase["tolerance"])
            expected = int(hit[0]) if hit.size else None      # losses stop where a path diverged
            assert phase["converged_at"][i][j] == expected, (m, lr)
            assert phase["diverged_at"][i][j] == path["diverged_at"], (m, lr)


def test_momentum_phase_diagram_shows_momentum_converging_faster_and_large_rates_diverging():
    phase = momentum_phase({})
    cells = np.array([[np.inf if v is None else v for v in row] for row in phase["converged_at"]])
    assert np.isfinite(cells).any()
    best_plain, best_overall = cells[0].min(), cells.min()
    assert best_overall < best_plain / 2                     # some momentum beats every plain-SGD rate
    assert phase["diverged_at"][0][-1] is not None            # lr 1.0 > 2 / 4 (the ravine's curvature) diverges


def test_phase_diagram_refuses_a_surface_without_minimum():
    with pytest.raises(SpecError) as e:
        momentum_phase({"surface": {"name": "saddle"}})
    assert e.value.problems[0].path == "surface"


def test_catalog_lists_every_surface_and_preset():
    cat = lesson_catalog()
    assert set(cat["surfaces"]) == set(SURFACES.names())
    for preset in cat["presets"].values():
        optimizer_paths(preset["request"])     # every preset is a valid request
