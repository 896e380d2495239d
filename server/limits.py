"""Request hygiene: body size cap (ASGI middleware, before the body is read) and strict JSON
(NaN/Infinity and absurd nesting refused with 422 before pydantic sees the body)."""
from __future__ import annotations

import json

from fastapi.routing import APIRoute
from starlette.responses import JSONResponse


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


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON here: numbers must be finite")


def _depth(value, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of lists/dicts without recursion, stopping once it passes `limit`."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (list, dict)):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            children = node.values() if isinstance(node, dict) else node
            stack.extend((c, depth + 1) for c in children if isinstance(c, (list, dict)))
    return deepest


def check_json(body: bytes, max_depth: int = MAX_DEPTH) -> str | None:
    """None if `body` is acceptable JSON, else why not."""
    too_deep = f"JSON nested too deeply (limit max_json_depth = {max_depth} levels)"
    try:
        value = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        return too_deep
    except (ValueError, UnicodeDecodeError) as e:
        return f"invalid JSON: {e}"
    if _depth(value, max_depth) > max_depth:
        return too_deep
    return None


class StrictJSONRoute(APIRoute):
    """APIRoute that refuses NaN/Infinity, malformed and deeply nested JSON bodies with a 422."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def strict_handler(request):
            if request.method in ("POST", "PUT", "PATCH"):
                body = await request.body()  # cached: FastAPI reuses it
                settings = getattr(request.app.state, "settings", None)
                depth = getattr(settings, "max_json_depth", MAX_DEPTH)
                problem = check_json(body, depth) if body else None
                if problem:
                    return JSONResponse({"detail": [{"loc": ["body"], "msg": problem, "type": "json_invalid"}],
                                         "message": problem}, status_code=422)
            return await handler(request)

        return strict_handler
