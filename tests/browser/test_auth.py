"""A server started with NNPLAY_API_TOKEN: the page asks once for the token, keeps it for the tab, and sends it
on mutating requests (Bearer) and on the job socket (the `nnplay.token.<token>` subprotocol), never in a URL."""
from __future__ import annotations

import httpx
import pytest

from browser_support import Server, watched_page

pytestmark = pytest.mark.browser

TOKEN = "lecture-hall-7f3a"


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("nnplay_token_home"), NNPLAY_API_TOKEN=TOKEN).start()
    yield srv
    srv.stop()


def job_status(server, job_id) -> str:
    return httpx.get(f"{server.url}/api/jobs/{job_id}", timeout=30).json()["status"]


def test_token_is_asked_once_then_sent_on_requests_and_on_the_socket(browser, token_server, shot):
    with watched_page(browser, token_server.url) as page:
        sockets = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        page.watch.expect("/api/jobs", 401)      # the first Play, with a wrong token, is refused on purpose
        page.goto("/")
        page.wait_for_selector("body[data-ready=true]")
        page.wait_for_selector("body[data-auth=missing]")
        assert page.locator("#token-input").is_visible()

        page.fill("#token-input", "wrong")
        page.click("#token-save")
        page.click("#play")
        page.wait_for_selector("body[data-run-status=invalid]")
        assert "token" in page.locator("#run-message").inner_text()
        page.wait_for_selector("body[data-auth=missing]")          # refused: asked again
        assert "refused" in page.locator("#token-state").inner_text()

        page.fill("#token-input", TOKEN)
        page.click("#token-save")
        page.wait_for_selector("body[data-auth=set]")
        assert not page.locator("#token-input").is_visible()
        shot(page, "auth-token-set")

        epochs = page.locator("#controls input[data-param=epochs]")
        epochs.fill("20000")
        epochs.press("Tab")
        page.click("#play")                                        # POST /api/jobs with the Bearer header
        page.wait_for_function("parseInt(document.getElementById('stat-epoch').textContent) > 0", timeout=30_000)
        (job,) = httpx.get(f"{token_server.url}/api/jobs", timeout=30).json()["items"]  # the refused Play made none
        job_id = job["id"]
        page.click("#play")                                        # pause travels over the socket
        page.wait_for_function(f"fetch('/api/jobs/{job_id}').then(r => r.json()).then(j => j.status === 'paused')",
                               timeout=10_000)
        page.click("#reset")                                       # cancel: socket and REST both carry the token
        page.wait_for_selector("body[data-run-status=idle]")

        page.reload()                                              # kept for the tab: not asked again
        page.wait_for_selector("body[data-auth=set]")
    assert job_status(token_server, job_id) in ("cancelled", "stopped", "completed")
    # the pause above went over a socket whose URL carries no token (the subprotocol does)
    assert sockets and not any("token" in url for url in sockets)
    assert TOKEN not in "".join(token_server.log)


def test_the_token_box_stays_hidden_when_the_server_needs_none(page):
    page.goto("/jobs")
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("body[data-auth=off]", state="attached")
    assert not page.locator("#token-box").is_visible()
