"""Annotated dependency aliases. They take HTTPConnection so WebSocket routes can use them too."""
from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException
from starlette.requests import HTTPConnection

from .jobs.manager import JobManager
from .jobs.sweeps import SweepRunner
from .settings import Settings


def get_manager(conn: HTTPConnection) -> JobManager:
    return conn.app.state.manager


def get_sweeps(conn: HTTPConnection) -> SweepRunner:
    return conn.app.state.sweeps


def get_settings(conn: HTTPConnection) -> Settings:
    return conn.app.state.settings


def token_matches(given: str, expected: str | None) -> bool:
    """True when no NNPLAY_API_TOKEN is set or `given` is it (constant-time comparison)."""
    return not expected or hmac.compare_digest(given.encode(), expected.encode())


def bearer_token(conn: HTTPConnection) -> str:
    """The token of an `Authorization: Bearer <token>` header, else "". Never read from the URL: a URL
    ends up in logs, browser history and Referer headers."""
    header = conn.headers.get("authorization", "")
    return header[7:] if header.lower().startswith("bearer ") else ""


def token_ok(conn: HTTPConnection) -> bool:
    """True when no NNPLAY_API_TOKEN is set or the request carries it in the Authorization header."""
    return token_matches(bearer_token(conn), conn.app.state.settings.api_token)


def require_token(conn: HTTPConnection) -> None:
    if not token_ok(conn):
        raise HTTPException(401, "this server needs an API token: send Authorization: Bearer <NNPLAY_API_TOKEN>",
                            headers={"WWW-Authenticate": "Bearer"})


ManagerDep = Annotated[JobManager, Depends(get_manager)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SweepsDep = Annotated[SweepRunner, Depends(get_sweeps)]
Authorized = Depends(require_token)
