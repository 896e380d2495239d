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
