from __future__ import annotations

from fastapi import APIRouter

from ..limits import StrictJSONRoute
from ..schemas import HealthPublic
from ..settings import VERSION

router = APIRouter(prefix="/api", tags=["health"], route_class=StrictJSONRoute)


@router.get("/health", response_model=HealthPublic, summary="Liveness and version")
async def read_health() -> dict:
    """Answers while the server runs, with its version; needs no token."""
    return {"status": "ok", "version": VERSION}
