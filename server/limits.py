"""Request hygiene: body size cap (ASGI middleware, before the body is read) and strict JSON
(NaN/Infinity, absurd nesting and too many arrays/objects refused with 422 before pydantic sees the body).

Bodies are parsed and validated in a small thread pool, off the event loop, and a big body is counted and
parsed in a separate process (server/jsonparse.py), so /api/health and the sockets answer while it is read.
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.responses import JSONResponse

from . import jsonparse


class BodyTooLarge(Exception):
    pass


def _too_large(limit: int) -> JSONResponse:
    message = f"request body is larger than the limit max_body_bytes = {limit} bytes"
    return JSONResponse({"detail": message, "message": message}, status_code=413)


class BodySizeLimitMiddleware:
    """413 when Content-Length says too much, or as soon as a streamed body passes the limit."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return await _too_large(self.max_bytes)(scope, receive, send)
        seen, started = 0, False

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _too_large(self.max_bytes)(scope, receive, send)


from .settings import DEFAULT_MAX_JSON_DEPTH as MAX_DEPTH   # routes use their app's Settings.max_json_depth


def parse_json(body: bytes, max_depth: int = MAX_DEPTH) -> tuple[object, str | None]:
    """(value, None) if `body` is acceptable JSON, else (None, why not)."""
    return jsonparse.parse_json(body, max_depth)


def check_json(body: bytes, max_depth: int = MAX_DEPTH) -> str | None:
    """None if `body` is acceptable JSON, else why not."""
    return parse_json(body, max_depth)[1]


MAX_CONTAINERS = 50_000  # Settings.max_json_containers' default

# parsing and validating a body runs here, not on the event loop: a 6 MB body costs seconds of CPU on a busy
# machine, and /api/health and every socket must not wait for it. Bounded: more big bodies wait their turn.
BODY_THREADS = 2
_body_pool = ThreadPoolExecutor(max_workers=BODY_THREADS, thread_name_prefix="nnplay-body")


def _read_body(body: bytes, depth: int, containers: int, field) -> tuple[object, str | None]:
    """In the body pool: parse and check the JSON, then validate it against the route's body model (the
    model instance it gives passes FastAPI's own validation on the loop without being walked again)."""
    value, problem = jsonparse.parse_body(body, depth, containers)  # a big body: in the parse process
    if problem or field is None:
        return value, problem
    model, errors = field.validate(value, {}, loc=("body",))
    if errors:
        raise RequestValidationError(errors, body=value)
    return model, None


def _embeds(route: APIRoute) -> bool:
    """True when FastAPI reads the body as an object of several fields (then it validates them itself)."""
    return getattr(route, "_embed_body_fields", True) or len(route.dependant.body_params) != 1


class StrictJSONRoute(APIRoute):
    """APIRoute that refuses NaN/Infinity, malformed and deeply nested JSON bodies with a 422."""

    def get_route_handler(self):
        handler = super().get_route_handler()
        # one body model taken whole (not embedded): validated in the pool; other shapes only parsed there
        field = self.body_field if self.body_field is not None and not _embeds(self) else None

        async def strict_handler(request):
            if request.method in ("POST", "PUT", "PATCH"):
                body = await request.body()  # cached: FastAPI reuses it
                settings = getattr(request.app.state, "settings", None)
                depth = getattr(settings, "max_json_depth", MAX_DEPTH)
                containers = getattr(settings, "max_json_containers", MAX_CONTAINERS)
                if body:
                    loop = asyncio.get_running_loop()
                    value, problem = await loop.run_in_executor(_body_pool, _read_body, body, depth, containers,
                                                                field)
                    if problem:
                        return JSONResponse({"detail": [{"loc": ["body"], "msg": problem, "type": "json_invalid"}],
                                             "message": problem}, status_code=422)
                    request._json = value  # what FastAPI's `await request.json()` returns: not parsed again
            return await handler(request)

        return strict_handler
