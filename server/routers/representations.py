"""What a trained job's layers make of its data: GET /codes, POST /decode, GET /reconstructions.

The engine computes (engine/representations.py); this router loads the job's model and test examples and
turns the engine's SpecErrors into 422s naming the field.
"""
from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

import engine
from engine import representations as rep

from ..deps import ManagerDep, SettingsDep
from ..limits import StrictJSONRoute
from ..modelcache import load_cached
from ..schemas import CodesPublic, DecodePublic, DecodeRequest, ErrorPublic, ReconstructionsPublic

router = APIRouter(prefix="/api/jobs", tags=["representations"], route_class=StrictJSONRoute,
                   responses={404: {"model": ErrorPublic}, 422: {"model": ErrorPublic}})
_DATASETS: dict[str, object] = {}   # job id -> its dataset (a job's data never changes); a few kept
MAX_DATASETS = 4


def _dataset(job_id: str, spec: dict):
    if job_id not in _DATASETS:
        if len(_DATASETS) >= MAX_DATASETS:
            _DATASETS.pop(next(iter(_DATASETS)))
        _DATASETS[job_id] = engine.load_dataset(spec["dataset"])   # the stored spec is normalized
    return _DATASETS[job_id]


async def _model_and_data(job_id: str, manager):
    path = await manager.model_file(job_id)          # 404 until the first checkpoint
    job = await manager.get_job(job_id)
    model = await run_in_threadpool(load_cached, path)
    return model, await run_in_threadpool(_dataset, job_id, job["spec"])


def _codes(model, ds, split: str, limit: int, layer: int | None) -> dict:
    x = getattr(ds, f"x_{split}")
    if x is None or not len(x):
        raise engine.SpecError(f"this job's data has no {split} split", "split")
    x = x[:limit]
    i = rep.chosen_layer(model, layer)
    codes = rep.encode(model, x, i)
    if ds.task == "reconstruction":
        labels, names = (ds.labels or {}).get(split), ds.label_names
    else:
        labels, names = (getattr(ds, f"y_{split}"), ds.class_names) if ds.task == "classification" else (None, None)
    return {"layer": i, "units": int(codes.shape[1]), "split": split, "codes": codes.astype(float).tolist(),
            "labels": None if labels is None else labels[:limit].astype(int).tolist(), "label_names": names}


@router.get("/{job_id}/codes", response_model=CodesPublic, summary="The code (a layer's outputs) of N examples")
async def read_codes(job_id: str, manager: ManagerDep, settings: SettingsDep,
                     split: str = Query("test", pattern="^(train|val|test)$"),
                     limit: int = Query(500, ge=1, description="examples, at most the max_code_rows limit"),
                     layer: Optional[int] = Query(None, ge=0, description="default: the model's code layer")) -> dict:
    """The outputs of the code layer (`"code": true`, else the narrowest layer) for the first `limit` examples of
    `split`, with their class labels: an autoencoder's code space, coloured by digit."""
    cap = settings.engine_limits().max_code_rows
    if limit > cap:
        raise engine.SpecError(f"must be at most {cap} (max_code_rows), got {limit}", "limit")
    model, ds = await _model_and_data(job_id, manager)
    return await run_in_threadpool(_codes, model, ds, split, limit, layer)


def _decode(model, codes, layer) -> dict:
    i = rep.chosen_layer(model, layer, decoder=True)
    out = rep.decode(model, codes, i)
    pictures = rep.images(out)
    if pictures is not None:
        return {"layer": i, "encoding": "uint8", "images": pictures}
    return {"layer": i, "encoding": "numbers", "outputs": out.astype(float).tolist()}


@router.post("/{job_id}/decode", response_model=DecodePublic, summary="What the decoder makes of chosen codes")
async def decode_codes(job_id: str, body: DecodeRequest, manager: ManagerDep) -> dict:
    """Feeds each code row to the layers after the code layer; answers 28x28 pictures (base64 uint8) for image
    data, else the output rows. A click in the code space asks this for the digit drawn there."""
    path = await manager.model_file(job_id)
    model = await run_in_threadpool(load_cached, path)
    return await run_in_threadpool(_decode, model, body.codes, body.layer)


@router.get("/{job_id}/reconstructions", response_model=ReconstructionsPublic,
            summary="Test examples and what the autoencoder rebuilds from them")
async def read_reconstructions(job_id: str, manager: ManagerDep, settings: SettingsDep,
                               limit: int = Query(16, ge=1, description="at most max_reconstruction_rows")) -> dict:
    """Originals (and the noisy inputs of a denoising autoencoder) above their reconstructions, each example's
    mean squared error; base64 uint8 pictures for image data. 422 for a job that does not rebuild its inputs."""
    cap = settings.engine_limits().max_reconstruction_rows
    if limit > cap:
        raise engine.SpecError(f"must be at most {cap} (max_reconstruction_rows), got {limit}", "limit")
    model, ds = await _model_and_data(job_id, manager)
    return await run_in_threadpool(rep.reconstructions, model, ds, limit)
