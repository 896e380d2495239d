"""Browser fixtures: a real uvicorn on a free 127.0.0.1 port (own NNPLAY_HOME) and Debian's chromium via Playwright.

Every page records console errors, page errors and requests to hosts other than 127.0.0.1 (those are
aborted); a test fails at teardown when any were seen.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
MNIST_DIR = Path(os.environ.get("MNIST_DIR", "/work/shared/data/mnist"))



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python -m uvicorn server.main:app` with its own NNPLAY_HOME, started and stopped by the fixture."""

    def __init__(self, home: Path, **extra_env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "NNPLAY_HOME": str(home), "PYTHONPATH": str(REPO), "NNPLAY_CHECKPOINT_SECONDS": "0.3"}
        env.pop("NNPLAY_API_TOKEN", None)   # only the tests that ask for a token get one
        env.update(extra_env)
        if MNIST_DIR.exists():
            env.setdefault("MNIST_DIR", str(MNIST_DIR))
        self.env = env
        self.log: list[str] = []
        self.proc = None

    def start(self, timeout: float = 30) -> "Server":
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "server.main:app", "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "warning"], env=self.env, cwd=str(REPO), stderr=subprocess.PIPE, text=True)
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.log.append(line)
                if "Application startup complete" in line or "Uvicorn running" in line:
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        # --log-level warning hides the startup line: poll health as well
        import httpx
        for _ in range(int(timeout * 20)):
            if ready.wait(0.05):
                break
            try:
                if httpx.get(f"{self.url}/api/health", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("server exited:\n" + "".join(self.log))
        else:
            self.stop()
            raise RuntimeError("server did not start:\n" + "".join(self.log))
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


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
def watched_page(browser, base_url: str):
    """A 1280x720 page on `base_url` that fails at exit on console errors or requests off 127.0.0.1."""
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 720}, base_url=base_url)
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


@pytest.fixture
def page(browser, server):
    with watched_page(browser, server.url) as pg:
        yield pg


@pytest.fixture
def shot():
    """shot(page, name): full-page screenshot into tests/browser/artifacts/<name>.png."""
    def take(pg, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        return path
    return take
