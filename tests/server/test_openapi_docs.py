"""/docs and /redoc read /openapi.json: every operation says what it does, beyond its one-line summary."""
from __future__ import annotations

from fastapi.testclient import TestClient

from server.main import create_app


def test_every_operation_has_a_summary_and_a_description():
    schema = TestClient(create_app(), base_url="http://127.0.0.1").get("/openapi.json").json()
    missing = [f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method, op in ops.items()
               if not op.get("summary") or len(op.get("description", "")) < 40]
    assert not missing, f"operations without a description: {missing}"


def test_the_api_description_links_the_websocket_protocol_page():
    client = TestClient(create_app(), base_url="http://127.0.0.1")
    assert "(/docs/websocket)" in client.get("/openapi.json").json()["info"]["description"]
    page = client.get("/docs/websocket")
    assert page.status_code == 200 and 'id="since"' in page.text and "<code>pause</code>" in page.text


def test_the_main_responses_carry_an_example():
    schema = TestClient(create_app(), base_url="http://127.0.0.1").get("/openapi.json").json()
    components = schema["components"]["schemas"]
    for path, method in (("/api/health", "get"), ("/api/jobs/{job_id}", "get"), ("/api/jobs/{job_id}/history", "get"),
                         ("/api/jobs/{job_id}/predict", "post"), ("/api/jobs/{job_id}/evaluation/cell", "get"),
                         ("/api/digits/first-layer", "get"), ("/api/jobs/{job_id}", "patch"), ("/api/jobs", "get"),
                         ("/api/jobs/{job_id}/weights", "get"), ("/api/jobs/{job_id}/evaluation", "get"),
                         ("/api/digits/predict", "post"), ("/api/digits/sample", "get"),
                         ("/api/datasets/preview", "post")):
        ref = schema["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert components[ref.split("/")[-1]].get("examples"), f"{method.upper()} {path} has no example"


def response_examples(schema: dict) -> dict:
    """(METHOD path, media type) -> the 200 response's example (its own, or its schema component's)."""
    components = schema["components"]["schemas"]
    found = {}
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            for code, response in op["responses"].items():
                if not code.startswith("2"):
                    continue
                for media, content in response.get("content", {}).items():
                    example = content.get("example") or content.get("examples")
                    ref = content.get("schema", {}).get("$ref")
                    if not example and ref:
                        example = components[ref.split("/")[-1]].get("examples")
                    found[(f"{method.upper()} {path}", media)] = example
                if not response.get("content"):
                    found[(f"{method.upper()} {path}", None)] = code == "204" or None  # no body: nothing to show
    return found


def test_every_route_in_openapi_has_a_response_example():
    schema = TestClient(create_app(), base_url="http://127.0.0.1").get("/openapi.json").json()
    found = response_examples(schema)
    assert len(found) > 25
    missing = [key for key, example in found.items() if not example]
    assert not missing, f"responses without an example: {missing}"


def shape(value):
    """The keys of every object, recursively (lists: the union of their items' shapes)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        merged = None
        for item in value:
            merged = union(merged, shape(item))
        return [merged] if isinstance(merged, dict) else []
    return None


def union(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: union(a.get(k), b.get(k)) for k in a.keys() | b.keys()}
    if isinstance(a, list) and isinstance(b, list):
        return [union(a[0] if a else None, b[0] if b else None)] if (a or b) else []
    return b if a is None else a


def covers(full, part, where: str, whole: bool = True) -> list[str]:
    """Where `part` (an abridged example) has a key the live answer `full` lacks, or (outside lists, whose
    later items the example leaves out) misses one it has."""
    if isinstance(full, dict) and isinstance(part, dict):
        problems = [f"{where}.{k}: only in the example" for k in part.keys() - full.keys()]
        if whole:
            problems += [f"{where}.{k}: missing from the example" for k in full.keys() - part.keys()]
        for k in full.keys() & part.keys():
            problems += covers(full[k], part[k], f"{where}.{k}", whole)
        return problems
    if isinstance(full, list) and isinstance(part, list) and full and part:
        return covers(full[0], part[0], f"{where}[]", whole=False)
    return []


def test_each_computed_example_has_the_live_responses_keys():
    from server.examples import computed_examples, examples

    client = TestClient(create_app(), base_url="http://127.0.0.1")
    documented = client.get("/openapi.json").json()["paths"]
    for (method, path), example in examples().items():
        assert (method, path) in computed_examples(), f"{method} {path}: its example could not be computed"
        live = client.request(method.upper(), path, json=example.request)
        assert live.status_code == 200, (path, live.text)
        shown = documented[path][method]["responses"]["200"]["content"]["application/json"]["example"]
        problems = covers(shape(live.json()), shape(shown), f"{method.upper()} {path}")
        assert not problems, problems
