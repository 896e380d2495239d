"""A real `python -m uvicorn server.main:app` on a free 127.0.0.1 port with its own NNPLAY_HOME.

Shared by the server tests (restarts, kill -9, sockets) and the browser tests.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, home: Path, env: dict | None = None, pythonpath: tuple = (), cli_args: tuple | None = None):
        """`cli_args`: run `nnplay serve --host 127.0.0.1 --port P *cli_args` instead of uvicorn itself."""
        self.home = home
        self.cli_args = cli_args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.env = {**os.environ, "NNPLAY_HOME": str(home),
                    "PYTHONPATH": os.pathsep.join(str(p) for p in (REPO, *pythonpath))}
        self.env.pop("NNPLAY_API_TOKEN", None)  # only the tests that ask for a token get one
        self.env.update(env or {})
        self.proc = None
        self.log: list[str] = []

    def start(self, timeout: float = 30) -> "LiveServer":
        where = ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "info"]
        argv = (["server.cli", "serve", *where, *self.cli_args] if self.cli_args is not None
                else ["uvicorn", "server.main:app", *where])
        # stdout too: uvicorn writes its access log there
        self.proc = subprocess.Popen([sys.executable, "-m", *argv], env=self.env, cwd=str(REPO),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        ready = threading.Event()

        def read():
            for line in self.proc.stdout:
                self.log.append(line)
                if "Uvicorn running on" in line:  # the socket is bound (after "Application startup complete")
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        for _ in range(int(timeout * 20)):
            if ready.wait(0.05):
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("server exited:\n" + "".join(self.log))
        self.stop()
        raise RuntimeError("server did not start:\n" + "".join(self.log))

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill9(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)
