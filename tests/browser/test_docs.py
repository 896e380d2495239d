"""/docs (Swagger UI), /redoc and /docs/websocket work offline: every request off 127.0.0.1 is aborted (the
`page` fixture fails the test if one was even tried), and the operations list still renders."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_swagger_ui_renders_every_operation_with_no_outside_request(page, shot):
    page.goto("/docs")
    page.wait_for_selector(".opblock-summary-path")   # drawn by the vendored swagger-ui-bundle.js
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/jobs" in paths and "/api/health" in paths
    assert page.locator("a[href='/docs/websocket']").count() >= 1   # the protocol page is linked from /docs
    shot(page, "docs_1280")


def test_redoc_renders_the_operations_menu_with_no_outside_request(page):
    page.goto("/redoc")
    page.wait_for_selector("[role=menuitem]", timeout=30_000)  # redoc's side menu, one item per operation
    page.get_by_text("WebSocket protocol page").first.wait_for()
    assert page.locator("li[role=menuitem]").count() >= 10


def test_websocket_page_lists_the_engines_commands_and_since(page):
    page.goto("/docs/websocket")
    rows = page.locator("#commands-table tbody tr td:first-child").all_inner_texts()
    assert {"pause", "resume", "step", "cancel", "set"} <= set(rows)
    assert "learning_rate" in page.locator("#commands-table").inner_text()
    assert page.locator("#since").is_visible()
