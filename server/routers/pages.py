"""The HTML pages; templates/ and static/ live next to server/ in the repository."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ..settings import VERSION

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
router = APIRouter(tags=["pages"], include_in_schema=False)


def _page(request: Request, name: str, **context) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"version": VERSION, **context})


@router.get("/", response_class=HTMLResponse)
async def read_index(request: Request) -> HTMLResponse:
    return _page(request, "index.html")


@router.get("/digits", response_class=HTMLResponse)
async def read_digits(request: Request) -> HTMLResponse:
    return _page(request, "digits.html")


@router.get("/jobs", response_class=HTMLResponse)
async def read_jobs(request: Request) -> HTMLResponse:
    return _page(request, "jobs.html")


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
async def read_job_page(request: Request, job_id: str) -> HTMLResponse:
    return _page(request, "jobs.html", job_id=job_id)

# ---- lessons: the index and lessons 2 and 3 (lesson 1, /lessons/backprop, is added beside them) ----
@router.get("/lessons", response_class=HTMLResponse)
async def read_lessons(request: Request) -> HTMLResponse:
    return _page(request, "lessons.html")


@router.get("/lessons/optimizers", response_class=HTMLResponse)
async def read_lesson_optimizers(request: Request) -> HTMLResponse:
    return _page(request, "lesson_optimizers.html")


@router.get("/lessons/initialization", response_class=HTMLResponse)
async def read_lesson_initialization(request: Request) -> HTMLResponse:
    return _page(request, "lesson_initialization.html")
