"""POST /api/models/summary: the engine's view of a model the builder is editing (engine.summary).
POST /api/models/preview: the untrained network's epoch-0 frames, without a job (engine.preview).
GET/POST /api/models/autoencoder: the /autoencoder page's options, and the job spec they make
(engine.autoencoder_layouts: the shape rules of its conv encoder and decoder live there)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.concurrency import run_in_threadpool

from engine.autoencoder_layouts import OPTIONS as AUTOENCODER_OPTIONS, PART_FACTS, PARTS, autoencoder_layout
from engine.preview import preview_model as build_preview
from engine.summary import summarize

from ..deps import SettingsDep
from ..limits import StrictJSONRoute
from ..schemas import (AutoencoderLayoutPublic, AutoencoderOptionsPublic, ErrorPublic, ModelPreviewPublic,
                       ModelPreviewRequest, ModelSummaryPublic, ModelSummaryRequest)

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


@router.get("/autoencoder", response_model=AutoencoderOptionsPublic,
            summary="The /autoencoder page's options: encoder and decoder kinds, sizes, code width, loss, data")
async def read_autoencoder_options() -> dict:
    """Every option of POST /api/models/autoencoder with its default, range and help, and the layer kinds."""
    return {"options": [p.to_json() for p in AUTOENCODER_OPTIONS], "parts": PARTS.describe(*PART_FACTS)}


@router.post("/autoencoder", response_model=AutoencoderLayoutPublic,
             summary="The job spec of an autoencoder built from the page's options, with its layer summary")
async def create_autoencoder_layout(body: Annotated[Any, Body()]) -> dict:
    """Builds the encoder, code layer and decoder the options describe (a conv decoder's way back up to 28x28
    included) and answers the job spec POST /api/jobs trains, with each layer's output shape and parameters and what
    POST /api/jobs would refuse. Like /api/models/summary it answers 200 for options that make no trainable
    network: `errors` names each bad option (and `spec` is null when there is none)."""
    return await run_in_threadpool(autoencoder_layout, body)
