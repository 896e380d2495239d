"""/api/lessons/optimizers, /optimizers/phase and /initialization through the app: shapes as the issue gives
them, 422s naming the field, and the lessons' pages."""
import pytest

from engine.lessons.surfaces import SURFACES

SEVEN = [{"name": "sgd", "learning_rate": 0.001}, {"name": "sgd", "learning_rate": 0.001, "momentum": 0.9},
         {"name": "sgd", "learning_rate": 0.001, "momentum": 0.9, "nesterov": True},
         {"name": "adagrad", "learning_rate": 0.5}, {"name": "rmsprop", "learning_rate": 0.01},
         {"name": "adam", "learning_rate": 0.05}, {"name": "adadelta", "learning_rate": 1.0}]


def test_optimizer_paths_answer_in_the_issues_shape(client):
    r = client.post("/api/lessons/optimizers", json={"surface": {"name": "rosenbrock"}, "start": [-1.5, 2],
                                                      "steps": 300, "optimizers": SEVEN})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body["surface"]) >= {"name", "domain", "minimum", "grid"}
    assert set(body["surface"]["grid"]) == {"x", "y", "z"}
    assert len(body["paths"]) == 7
    for path in body["paths"]:
        assert set(path) == {"optimizer", "points", "losses", "diverged_at"}
        assert path["points"][0] == [-1.5, 2] and len(path["points"]) == 301
    assert body["paths"][5]["optimizer"] == {"name": "adam", "learning_rate": 0.05, "beta_1": 0.9,
                                             "beta_2": 0.999, "epsilon": 1e-7, "clipnorm": None, "clipvalue": None}


def test_a_custom_expression_surface(client):
    r = client.post("/api/lessons/optimizers", json={"surface": {"expression": "x**2 + 10*y**2"}, "start": [1, 1],
                                                      "steps": 10, "optimizers": [{"name": "sgd", "learning_rate": 0.01}]})
    assert r.status_code == 200, r.text
    # x <- x - 0.01 * 2x, y <- y - 0.01 * 20y
    assert r.json()["paths"][0]["points"][1] == pytest.approx([0.98, 0.8])


def test_unknown_surface_is_a_422_listing_the_valid_ones(client):
    r = client.post("/api/lessons/optimizers", json={"surface": {"name": "volcano"}, "optimizers": SEVEN})
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["field"] == "surface.name"
    assert all(name in detail["msg"] for name in SURFACES.names())


@pytest.mark.parametrize("body, field", [
    ({"surface": {"name": "bowl"}, "optimizers": [{"name": "adam", "learning_rate": -1}]}, "optimizers.0.learning_rate"),
    ({"surface": {"name": "bowl"}, "optimizers": [{"name": "nope"}]}, "optimizers.0.name"),
    ({"surface": {"name": "bowl"}, "optimizers": []}, "optimizers"),
    ({"surface": {"name": "bowl"}, "start": [1, "2"], "optimizers": SEVEN}, "start"),
    ({"surface": {"name": "bowl"}, "steps": 100000, "optimizers": SEVEN}, "steps"),
    ({"surface": {"expression": "__import__('os')"}, "optimizers": SEVEN}, "surface.expression"),
])
def test_bad_requests_name_the_field(client, body, field):
    r = client.post("/api/lessons/optimizers", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["field"] == field


def test_lesson_catalog_lists_surfaces_and_presets(client):
    body = client.get("/api/lessons/optimizers").json()
    assert set(body["surfaces"]) == set(SURFACES.names())
    assert {"comparison", "terminal_velocity"} <= set(body["presets"])
    comparison = body["presets"]["comparison"]["request"]
    assert {o["name"] for o in comparison["optimizers"]} == {"sgd", "adagrad", "rmsprop", "adam", "adadelta"}
    assert len(comparison["optimizers"]) == 7


def test_phase_diagram(client):
    r = client.post("/api/lessons/optimizers/phase", json={"lr_count": 5, "momentum_count": 4})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["converged_at"]) == 4 and len(body["converged_at"][0]) == 5
    assert len(body["learning_rates"]) == 5 and len(body["momentums"]) == 4
    assert client.post("/api/lessons/optimizers/phase", json={"surface": {"name": "saddle"}}).status_code == 422


def test_initialization_answers_in_the_issues_shape(client):
    r = client.post("/api/lessons/initialization", json={"layers": 10, "units": 500, "activation": "tanh",
                                                          "initializer": {"name": "random_normal", "stddev": 0.01},
                                                          "n_samples": 1000, "seed": 0})
    assert r.status_code == 200, r.text
    layers = r.json()["layers"]
    assert len(layers) == 10
    for layer in layers:
        assert {"index", "mean", "std", "saturated", "dead", "histogram", "grad_std"} <= set(layer)
        assert set(layer["histogram"]) == {"edges", "counts"}
    assert layers[9]["std"] < 1e-3 * layers[0]["std"]


def test_initialization_refuses_bad_options_by_field(client):
    r = client.post("/api/lessons/initialization", json={"initializer": {"name": "random_normal", "stddev": -1}})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "initializer.stddev"
    r = client.post("/api/lessons/initialization", json={"layers": 500})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "layers"
    r = client.post("/api/lessons/initialization", json={"activation": "nope"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "activation"


def test_initialization_options_come_from_the_engine(client):
    options = {p["name"]: p for p in client.get("/api/lessons/initialization").json()["options"]}
    assert options["layers"]["default"] == 10 and options["units"]["max"] == 1000


@pytest.mark.parametrize("path", ["/lessons", "/lessons/optimizers", "/lessons/initialization"])
def test_lesson_pages_are_served(client, path):
    r = client.get(path)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
