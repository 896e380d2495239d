"""The FastAPI application: create_app() wires settings, the job manager (lifespan), routers and errors."""
from __future__ import annotations

import asyncio
import json
import logging
import os
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from engine.errors import DataError, SpecError

from . import jsonparse, modelcache
from .home import HomeLock, remove_temp_files
from .jobs.executor import make_executor
from .jobs.manager import JobError, JobManager
from .jobs.storage import Storage
from .jobs.sweeps import SweepRunner
from .examples import add_examples, computed_examples
from .limits import BodySizeLimitMiddleware
from .routers import (catalog, datasets, digits, health, jobs, lessons, models, pages, representations, stream,
                      sweeps)
from .security import SameSiteMiddleware, install_log_redaction
from .settings import VERSION, Settings

log = logging.getLogger("nnplay")

API_DESCRIPTION = (
    "Build, train and watch neural networks; REST jobs, live WebSocket streams, digits.\n\n"
    "Live training streams over `WS /ws/jobs/{id}?since=N`: the messages, the commands and `since` are described "
    "on the [WebSocket protocol page](/docs/websocket). Other views: [ReDoc](/redoc), [Swagger UI](/docs).")


def make_manager(settings: Settings) -> JobManager:
    executor = make_executor(settings, train_path=os.environ.get("NNPLAY_TRAIN_FN", "engine:train"))
    storage = Storage(settings.db_path, settings.models_dir)
    return JobManager(storage, executor, settings.models_dir, max_running=settings.workers_jobs,
                      max_queued=settings.max_queued_jobs, limits=settings.engine_limits(),
                      max_light=settings.max_light_jobs, unwatched_seconds=settings.unwatched_seconds)


def _loc_text(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts)


def _branch_label(part: object) -> bool:
    """pydantic's names for union branches ('literal[...]', 'tagged-union[...]', a model name, '<name>')."""
    return isinstance(part, str) and ("[" in part or "<" in part or part[:1].isupper())


def _field_loc(loc: tuple, body: Any) -> list:
    """A body error's loc without union-branch labels (a discriminated union puts the tag, e.g. 'dense', in
    the loc): keep the parts that walk the request body, and a last key missing from an object."""
    if not loc or loc[0] != "body":
        return [p for p in loc if not _branch_label(p)]
    out, node = ["body"], body
    for i, part in enumerate(loc[1:], start=1):
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
        elif isinstance(node, list) and type(part) is int and 0 <= part < len(node):
            node = node[part]
        elif not (i == len(loc) - 1 and isinstance(node, dict) and not _branch_label(part)):
            continue  # a branch label, not a field
        out.append(part)
    return out


def _got(e: dict) -> str:
    """', got 0' for a refused scalar, in JSON spelling (true, "10"), so the client sees what was sent."""
    value = e.get("input")
    if e["type"] in ("missing", "extra_forbidden") or not isinstance(value, (bool, int, float, str)):
        return ""
    text = json.dumps(value)
    return f", got {text}" if len(text) <= 60 else ""


def _errors_body(items: list[dict]) -> dict:
    message = "; ".join(f"{i['field']}: {i['msg']}" if i["field"] else i["msg"] for i in items)
    detail = [{"loc": i["loc"], "field": i["field"], "msg": i["msg"], "type": i["type"]} for i in items]
    return {"detail": detail, "message": message}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        items = []
        for e in exc.errors()[:50]:
            loc = _field_loc(e["loc"], exc.body)
            if e["type"].startswith("unknown_"):  # server/schemas.py union(): unknown_name, unknown_type
                loc.append(e["type"].removeprefix("unknown_"))
            items.append({"loc": loc, "field": _loc_text(loc), "msg": e["msg"] + _got(e), "type": e["type"]})
        return JSONResponse(_errors_body(items), status_code=422)

    @app.exception_handler(SpecError)
    async def on_spec_error(request: Request, exc: SpecError) -> JSONResponse:
        items = [{"loc": ["body", *p.path.split(".")] if p.path else ["body"], "field": p.path, "msg": p.message,
                  "type": "spec"} for p in exc.problems]
        return JSONResponse(_errors_body(items), status_code=422)

    @app.exception_handler(DataError)
    async def on_data_error(request: Request, exc: DataError) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "message": str(exc)}, status_code=422)

    @app.exception_handler(JobError)
    async def on_job_error(request: Request, exc: JobError) -> JSONResponse:
        return JSONResponse({"detail": exc.message, "message": exc.message}, status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:  # Starlette's Allow names only the first route on the path
            headers = {**(headers or {}), "Allow": allowed_methods(request.app, request.scope)}
        return JSONResponse({"detail": exc.detail, "message": str(exc.detail)}, status_code=exc.status_code,
                            headers=headers)


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(app: FastAPI, scope) -> str:
    """Every method some route fully serves on this request's path ("DELETE, GET, PATCH"), for a 405's Allow."""
    served = [m for m in HTTP_METHODS
              if any(route.matches({**scope, "method": m})[0] == Match.FULL for route in app.router.routes)]
    return ", ".join(sorted(served))


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # one server per home (HomeInUse names the other's pid); a damaged database stops the start with
        # CorruptDatabase naming the file and what to do
        lock = HomeLock(settings.home).acquire()
        try:
            removed = remove_temp_files(settings.models_dir)  # half-written model files of a crash
            if removed:
                log.warning("removed %d leftover temporary model file(s) in %s", len(removed), settings.models_dir)
            modelcache.use_limits(settings.engine_limits())
            # the docs' computed response examples (about a second, once per process): ready before /docs asks
            asyncio.get_running_loop().run_in_executor(None, computed_examples)
            asyncio.get_running_loop().run_in_executor(None, jsonparse.start)  # the big bodies' parse process
            app.state.manager = make_manager(settings)
            await app.state.manager.start()
            app.state.sweeps = SweepRunner(app.state.manager)
            await app.state.sweeps.start()   # resumes sweeps left running
            try:
                yield
            finally:
                await app.state.sweeps.shutdown()   # no trial starts while the manager interrupts the jobs
                await app.state.manager.shutdown()
                app.state.manager.storage.close()
        finally:
            lock.release()

    # docs_url/redoc_url off: server/routers/pages.py serves /docs and /redoc from static/vendor (no CDN)
    app = FastAPI(title="NN Playground", version=VERSION, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description=API_DESCRIPTION)
    app.state.settings = settings
    default_openapi = app.openapi

    def openapi_with_examples() -> dict:
        if app.openapi_schema is None:  # FastAPI caches its schema there; the examples go in once
            app.openapi_schema = add_examples(default_openapi())
        return app.openapi_schema

    app.openapi = openapi_with_examples
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    # added last, so it runs first: a request for another name or from another site is refused before anything
    app.add_middleware(SameSiteMiddleware, allowed_hosts=settings.allowed_hosts)
    install_log_redaction()  # `uvicorn server.main:app` too, not only `nnplay serve`: no token in the logs
    install_error_handlers(app)
    for module in (health, catalog, datasets, models, jobs, representations, sweeps, digits, lessons, stream, pages):
        app.include_router(module.router)
    if pages.STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=str(pages.STATIC_DIR)), name="static")
    return app


def __getattr__(name: str):
    """`server.main:app` for `uvicorn server.main:app`, built on first access with settings from the env."""
    if name == "app":
        return create_app()
    raise AttributeError(name)
