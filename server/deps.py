"""Annotated dependency aliases. They take HTTPConnection so WebSocket routes can use them too."""
from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException
from starlette.requests import HTTPConnection

from .jobs.manager import JobManager
from .settings import Settings


def get_manager(conn: HTTPConnection) -> JobManager:
    return conn.app.state.manager


def get_settings(conn: HTTPConnection) -> Settings:
    return conn.app.state.settings


def token_ok(conn: HTTPConnection) -> bool:
    """True when no NNPLAY_API_TOKEN is set or the request carries it (Bearer header or ?token= for sockets)."""
    expected = conn.app.state.settings.api_token
    if not expected:
        return True
    header = conn.headers.get("authorization", "")
    given = header[7:] if header.lower().startswith("bearer ") else conn.query_params.get("token", "")
    return hmac.compare_digest(given.encode(), expected.encode())


def require_token(conn: HTTPConnection) -> None:
    if not token_ok(conn):
        raise HTTPException(401, "this server needs an API token: send Authorization: Bearer <NNPLAY_API_TOKEN>",
                            headers={"WWW-Authenticate": "Bearer"})


ManagerDep = Annotated[JobManager, Depends(get_manager)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
Authorized = Depends(require_token)
