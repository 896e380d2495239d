"""The HTML pages; templates/ and static/ live next to server/ in the repository."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from engine.control import COMMANDS

from ..settings import VERSION

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
router = APIRouter(tags=["pages"], include_in_schema=False)


def _page(request: Request, name: str, **context) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"version": VERSION, **context})


# path -> template; each page is the same handler, so they are one table (the lessons included)
PAGES = {
    "/": "index.html",
    "/digits": "digits.html",
    "/autoencoder": "autoencoder.html",
    "/jobs": "jobs.html",
    "/sweeps": "sweeps.html",
    "/sequences": "sequences.html",
    "/lessons": "lessons.html",
    "/lessons/backprop": "lesson_backprop.html",
    "/lessons/optimizers": "lesson_optimizers.html",
    "/lessons/initialization": "lesson_initialization.html",
}


def _page_route(template: str):
    async def read_page(request: Request) -> HTMLResponse:
        return _page(request, template)
    return read_page


for _path, _template in PAGES.items():
    router.add_api_route(_path, _page_route(_template), methods=["GET"], response_class=HTMLResponse,
                         name=f"page {_path}")


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
async def read_job_page(request: Request, job_id: str) -> HTMLResponse:
    return _page(request, "jobs.html", job_id=job_id)


# ---- API documentation, offline: Swagger UI and ReDoc from static/vendor (pinned copies, see its README) ----
VENDOR = "/static/vendor"


@router.get("/docs", response_class=HTMLResponse)
async def read_swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url, title=f"{request.app.title} - API",
        swagger_js_url=f"{VENDOR}/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{VENDOR}/swagger-ui/swagger-ui.css",
        swagger_favicon_url=f"{VENDOR}/swagger-ui/favicon-32x32.png")


@router.get("/redoc", response_class=HTMLResponse)
async def read_redoc(request: Request) -> HTMLResponse:
    # no Google Fonts: redoc falls back to the system's sans-serif and monospace
    return get_redoc_html(openapi_url=request.app.openapi_url, title=f"{request.app.title} - API",
                          redoc_js_url=f"{VENDOR}/redoc/redoc.standalone.js",
                          redoc_favicon_url=f"{VENDOR}/swagger-ui/favicon-32x32.png", with_google_fonts=False)


@router.get("/docs/websocket", response_class=HTMLResponse)
async def read_websocket_docs(request: Request) -> HTMLResponse:
    """The socket protocol; its commands table comes from the engine's COMMANDS registry."""
    return _page(request, "docs_websocket.html", commands=COMMANDS.describe())
