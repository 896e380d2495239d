from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request

from ..limits import StrictJSONRoute
from ..schemas import HealthPublic
from ..settings import VERSION

router = APIRouter(prefix="/api", tags=["health"], route_class=StrictJSONRoute)


@router.get("/health", response_model=HealthPublic, response_model_exclude_none=True,
            summary="Liveness, version and where jobs run")
async def read_health(request: Request) -> dict:
    """Answers while the server runs, with its version and the executor jobs train on (`local`: a process per
    job, `thread`: threads of the server, `ray`: tasks on a Ray cluster, with its address and nodes); needs
    no token."""
    manager = getattr(request.app.state, "manager", None)  # None: an app whose lifespan has not run
    if manager is None:
        return {"status": "ok", "version": VERSION, "executor": request.app.state.settings.executor}
    executor = manager.executor
    # in the loop when it is a few dict reads: the default thread pool may be busy with big requests' storage
    # work, and health must not queue behind it (issue 9: health p99 while four big jobs arrive)
    described = (await asyncio.to_thread(executor.describe) if getattr(executor, "describe_waits", False)
                 else executor.describe())
    return {"status": "ok", "version": VERSION, **described}
