"""Limits have one home; the REST API and the catalog use the same numbers as the engine."""
def test_catalog_lists_engine_and_request_limits(client):
    limits = client.get("/api/catalog").json()["limits"]
    for name in ("max_stroke_points", "max_pen_travel", "max_json_depth", "max_body_bytes", "max_inline_points"):
        assert name in limits, name


def test_stroke_point_limit_is_the_engines_at_the_rest_api(client):
    from engine.limits import DEFAULT_LIMITS
    n = DEFAULT_LIMITS.max_stroke_points + 1
    stroke = [[i % 200, (i * 7) % 200] for i in range(n)]
    r = client.post("/api/digits/predict", json={"strokes": [stroke]})
    assert r.status_code == 422
    assert f"at most {DEFAULT_LIMITS.max_stroke_points} points" in r.text


def test_json_nesting_limit_comes_from_the_settings(tmp_path):
    from fastapi.testclient import TestClient
    from server.main import create_app
    from server.settings import Settings
    app = create_app(Settings(home=tmp_path, max_json_depth=5))
    with TestClient(app, base_url="http://127.0.0.1") as c:  # a name the server answers to (server/security.py)
        deep = {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}
        r = c.post("/api/jobs", json={"dataset": deep, "model": {}})
        assert r.status_code == 422 and "max_json_depth = 5" in r.text
