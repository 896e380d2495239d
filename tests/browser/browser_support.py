"""Browser fixtures: a real uvicorn on a free 127.0.0.1 port (own NNPLAY_HOME) and Debian's chromium via Playwright.

Every page records console errors, page errors and requests to hosts other than 127.0.0.1 (those are
aborted); a test fails at teardown when any were seen.
"""
from __future__ import annotations

import base64
import contextlib
import json
import os
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.live_server import LiveServer

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
MNIST_DIR = Path(os.environ.get("MNIST_DIR", "/work/shared/data/mnist"))



class Server(LiveServer):
    """The app under test, with MNIST for the digits page when it is here."""

    def __init__(self, home: Path, **extra_env: str):
        env = {"NNPLAY_CHECKPOINT_SECONDS": "0.3", **extra_env}
        if MNIST_DIR.exists():
            env.setdefault("MNIST_DIR", os.environ.get("MNIST_DIR", str(MNIST_DIR)))
        super().__init__(home, env)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("nnplay_home")).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium: apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class PageWatch:
    """What a page did that it should not: console errors, uncaught errors, requests off 127.0.0.1.

    A test that provokes an error response on purpose (a refused token, the missing default digit model)
    declares it with `page.watch.expect(path, status)`; the browser's console line for it is then not an error.
    """

    def __init__(self):
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.expected: list[tuple[str, int]] = []

    def expect(self, path: str, status: int) -> None:
        self.expected.append((path, status))

    def on_console(self, msg):
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "")
        if "Failed to load resource" in msg.text and any(
                urlparse(url).path.startswith(p) and f"status of {code}" in msg.text for p, code in self.expected):
            return
        self.errors.append(f"console: {msg.text} ({url})")


@contextlib.contextmanager
def watched_page(browser, base_url: str, **context_options):
    """A 1280x720 page on `base_url` that fails at exit on console errors or requests off 127.0.0.1.
    `context_options` go to new_context (a phone: viewport, device_scale_factor, has_touch, is_mobile)."""
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 720}, **context_options},
                                  base_url=base_url)
    watch = PageWatch()

    def route(r):
        host = urlparse(r.request.url).hostname
        if host in ("127.0.0.1",) or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            watch.foreign.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    pg = context.new_page()
    pg.on("console", watch.on_console)
    pg.on("pageerror", lambda e: watch.errors.append(f"pageerror: {e}"))
    pg.watch = watch
    yield pg
    context.close()
    assert not watch.foreign, f"requests left 127.0.0.1: {watch.foreign}"
    assert not watch.errors, "console errors:\n" + "\n".join(watch.errors)


def cancel_active_jobs(base_url: str) -> None:
    """Play runs open-ended, so a test's job keeps training after its page closes: cancel what is still
    queued, running or paused so the next test does not wait behind it for a worker."""
    for status in ("running", "paused", "queued"):
        with urllib.request.urlopen(f"{base_url}/api/jobs?status={status}&limit=500", timeout=10) as r:
            items = json.load(r)["items"]
        for job in items:
            request = urllib.request.Request(f"{base_url}/api/jobs/{job['id']}/cancel", method="POST")
            urllib.request.urlopen(request, timeout=30).read()


@pytest.fixture
def page(browser, server):
    with watched_page(browser, server.url) as pg:
        yield pg
    cancel_active_jobs(server.url)


@pytest.fixture
def shot():
    """shot(page, name): full-page screenshot into tests/browser/artifacts/<name>.png."""
    def take(pg, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        return path
    return take


# ---- the playground page
# the page's configuration from its URL (#s=base64url JSON), as state.js writes it
URL_STATE = """() => {
  const raw = new URLSearchParams(location.hash.slice(1)).get('s').replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(raw + '='.repeat((4 - raw.length % 4) % 4)), c => c.charCodeAt(0))));
}"""


def open_playground(page, path="/"):
    page.goto(path)
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_function("Number(document.getElementById('heatmap').dataset.points) > 0")


def set_number(page, locator, value):
    locator.fill(str(value))
    locator.press("Tab")  # commits: fires "change"


def builder_settled(page):
    """Wait until the builder shows the engine's summary of the model on screen (POST /api/models/summary)."""
    page.wait_for_selector("#builder[data-pending=false]")


def stat(page, name) -> str:
    return page.locator(f"#stat-{name}").inner_text()


def share_link(base_url: str, state: dict) -> str:
    """A playground link carrying `state` ({dataset, model, training, view}) as state.js writes it."""
    raw = base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")
    return f"{base_url}/#s={raw}"
