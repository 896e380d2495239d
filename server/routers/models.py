"""POST /api/models/summary: the engine's view of a model the builder is editing (engine.summary)."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from engine.summary import summarize

from ..deps import SettingsDep
from ..limits import StrictJSONRoute
from ..schemas import ErrorPublic, ModelSummaryPublic, ModelSummaryRequest

router = APIRouter(prefix="/api/models", tags=["models"], route_class=StrictJSONRoute,
                   responses={422: {"model": ErrorPublic}})


@router.post("/summary", response_model=ModelSummaryPublic,
             summary="Output shapes, parameter counts, warnings, errors and the fitting output layer of a model")
async def summarize_model(body: ModelSummaryRequest, settings: SettingsDep) -> dict:
    return await run_in_threadpool(summarize, body.model, body.dataset, settings.engine_limits())
