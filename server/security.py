"""Other web sites must not drive the server (Jupyter's conventions).

- Host check (DNS rebinding): a page at http://evil.example:8000 whose name resolves to 127.0.0.1 sends
  `Host: evil.example:8000`; only the server's own names are served (400 otherwise).
- Origin check (cross-site requests, WebSocket hijacking): a mutating request or a WebSocket handshake that
  carries an `Origin` from another site is refused with 403. No Origin (curl, Python) is fine: browsers always
  send one on these requests, so its absence means the caller is not a page on another site.
- is_loopback(host) for `nnplay serve`, which refuses to listen on the network without a token.
- RedactTokens: a logging filter so uvicorn's access and handshake lines never show `?token=...`.
"""
from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse

LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
WILDCARD_BINDS = ("0.0.0.0", "[::]", "")  # listen on every interface: not a name anyone browses to
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}
# a Host header is a name or an IP literal and an optional port; anything else (userinfo, paths) is refused
_HOST = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?")


def host_name(name: str) -> str:
    """A host name as the Host check compares it: lowercase, IPv6 literals in brackets ('::1' -> '[::1]')."""
    name = name.strip().lower()
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"
    return name


def split_names(text: str | None) -> list[str]:
    """'a, b,,c' -> ['a', 'b', 'c'] (for --allowed-hosts and NNPLAY_ALLOWED_HOSTS)."""
    return [host_name(part) for part in (text or "").split(",") if part.strip()]


def bind_names(host: str) -> list[str]:
    """The names a `--host` adds to the allowed hosts: itself, unless it is a listen-everywhere address."""
    name = host_name(host)
    return [] if name in WILDCARD_BINDS else [name]


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    name = host_name(host).strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to a public interface


def split_host(value: str | None) -> tuple[str, int | None] | None:
    """'Example.org:8000' -> ('example.org', 8000); '[::1]' -> ('[::1]', None); None when malformed."""
    match = _HOST.fullmatch((value or "").strip().lower())
    if not match:
        return None
    port = int(match[2]) if match[2] else None
    return (match[1], port) if port is None or port <= 65535 else None


class SameSiteMiddleware:
    """Refuses requests for other names (Host) and mutating requests or sockets from other sites (Origin).

    `allowed_hosts`: names besides 127.0.0.1, localhost and [::1] (any port); "*" turns the Host check off.
    A page served under one of these added names may also drive the server from any port (a reverse proxy
    that rewrites Host to 127.0.0.1:8000 still sees the public name in Origin).
    """

    def __init__(self, app, allowed_hosts: Iterable[str] = ()):
        extra = {host_name(h) for h in allowed_hosts if h.strip()}
        self.app = app
        self.any_host = "*" in extra
        self.trusted_origins = extra - {"*"} - set(LOCAL_HOSTS)
        self.hosts = set(LOCAL_HOSTS) | self.trusted_origins

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        refusal = self.host_refusal(headers.get("host")) or self.origin_refusal(scope, headers)
        if refusal:
            return await refuse(scope, receive, send, *refusal)
        await self.app(scope, receive, send)

    def host_refusal(self, value: str | None) -> tuple[int, str] | None:
        host = split_host(value)
        if host is None:
            return 400, f"invalid Host header {value!r}"
        if self.any_host or host[0] in self.hosts:
            return None
        return 400, (f"this server does not answer to the name {host[0]!r} (it answers to "
                     f"{', '.join(sorted(self.hosts))}); a classroom server adds names with --allowed-hosts "
                     f"or NNPLAY_ALLOWED_HOSTS")

    def origin_refusal(self, scope, headers: Headers) -> tuple[int, str] | None:
        origin = headers.get("origin")
        if origin is None or (scope["type"] == "http" and scope["method"] not in MUTATING):
            return None
        parts = urlsplit(origin)
        page = split_host(parts.netloc) if parts.scheme in DEFAULT_PORTS else None
        own = split_host(headers.get("host"))  # valid: the Host check ran first
        if page is not None:
            page_port = page[1] or DEFAULT_PORTS[parts.scheme]
            own_port = own[1] or DEFAULT_PORTS.get(scope.get("scheme", "http"), 80)
            if (page[0], page_port) == (own[0], own_port) or page[0] in self.trusted_origins:
                return None
        what = "WebSocket connections" if scope["type"] == "websocket" else f"{scope['method']} requests"
        return 403, (f"cross-site request refused: {what} from {origin} may not drive this server; use the "
                     f"playground from its own address, or call the API without an Origin header (curl, Python)")


async def refuse(scope, receive, send, status: int, message: str) -> None:
    """Answer with a JSON error; a WebSocket handshake is answered with the same HTTP response, never accepted."""
    if scope["type"] == "websocket" and "websocket.http.response" not in scope.get("extensions", {}):
        # a server without the denial-response extension turns a close before accept into a bare 403
        await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
        return
    await JSONResponse({"detail": message, "message": message}, status_code=status)(scope, receive, send)


# `token=<value>` in a logged URL (the server never reads a token from a URL, but a client may still put one there)
_TOKEN_QUERY = re.compile(r"((?:^|[?&;])[a-z_]*token=)[^&;#\s\"']*", re.IGNORECASE)
# uvicorn logs requests on uvicorn.access and WebSocket handshakes ("WebSocket /ws/... [accepted]") on uvicorn.error
REDACTED_LOGGERS = ("uvicorn.access", "uvicorn.error")


def redact(text: str) -> str:
    """'/ws/jobs/1?token=abc&since=2' -> '/ws/jobs/1?token=[redacted]&since=2'."""
    return _TOKEN_QUERY.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    """Rewrites a record's message and string arguments (uvicorn's access formatter reads the path from args)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install_log_redaction() -> None:
    """Adds RedactTokens to uvicorn's request loggers once (call after uvicorn configured logging)."""
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())


def log_config(base: dict) -> dict:
    """uvicorn's dictConfig `base` with RedactTokens on its request loggers (for uvicorn.run(log_config=...))."""
    config = {**base, "filters": {**base.get("filters", {}), "redact_tokens": {"()": RedactTokens}},
              "loggers": {name: dict(value) for name, value in base.get("loggers", {}).items()}}
    for name in REDACTED_LOGGERS:
        logger = config["loggers"].setdefault(name, {})
        logger["filters"] = [*logger.get("filters", []), "redact_tokens"]
    return config
