from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

import engine
from engine.digits import DEFAULT_MODEL_PATH

from ..deps import SettingsDep
from ..jobs.storage import JOB_STATES
from ..limits import StrictJSONRoute
from ..schemas import CatalogPublic

router = APIRouter(prefix="/api", tags=["catalog"], route_class=StrictJSONRoute)


@lru_cache(maxsize=4)
def _catalog(limits) -> dict:
    return engine.catalog(limits)


@router.get("/catalog", response_model=CatalogPublic, summary="Every name, option, range and limit the UI may offer")
async def read_catalog(settings: SettingsDep) -> dict:
    """Every registry name (layers, activations, losses, initializers, optimizers, schedules, datasets, features,
    commands) with its options' types, ranges, defaults and help, plus the server's limits. The UI builds its
    controls from this; nothing is listed twice."""
    return await run_in_threadpool(catalog_body, settings)


def catalog_body(settings) -> dict:
    """The engine's catalog under the server's limits, with the server's own facts (the docs' example too)."""
    body = dict(_catalog(settings.engine_limits()))
    body["limits"] = {**body["limits"], **settings.server_limits()}
    body["job_states"] = list(JOB_STATES)
    body["auth_required"] = bool(settings.api_token)
    body["digit_model_available"] = DEFAULT_MODEL_PATH.exists()
    return body
