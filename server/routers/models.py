"""POST /api/models/summary: the engine's view of a model the builder is editing (engine.summary).
POST /api/models/preview: the untrained network's epoch-0 frames, without a job (engine.preview)."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from engine.preview import preview_model as build_preview
from engine.summary import summarize

from ..deps import SettingsDep
from ..limits import StrictJSONRoute
from ..schemas import (ErrorPublic, ModelPreviewPublic, ModelPreviewRequest, ModelSummaryPublic,
                       ModelSummaryRequest)

router = APIRouter(prefix="/api/models", tags=["models"], route_class=StrictJSONRoute,
                   responses={422: {"model": ErrorPublic}})


@router.post("/summary", response_model=ModelSummaryPublic,
             summary="Output shapes, parameter counts, warnings, errors and the fitting output layer of a model")
async def summarize_model(body: ModelSummaryRequest, settings: SettingsDep) -> dict:
    """Checks a model spec (and optionally the dataset it will train on) and returns each layer's output shape and
    parameter count, warnings, errors and the output layer the data needs. A broken model still answers 200 with
    its errors."""
    return await run_in_threadpool(summarize, body.model, body.dataset, settings.engine_limits())


@router.post("/preview", response_model=ModelPreviewPublic,
             summary="The untrained network: the trainer's epoch-0 boundary and neuron maps, and the starting weights",
             description="Builds the run as POST /api/jobs would (same seed, same starting weights) and returns "
                         "what its first frame would show; nothing is queued or stored. 422 names the field.")
async def preview_model(body: ModelPreviewRequest, settings: SettingsDep) -> dict:
    raw = body.model_dump(exclude_unset=True)
    return await run_in_threadpool(build_preview, raw, settings.engine_limits())
