from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool

import numpy as np

from engine.digits import prepare_drawing, read_digit
from engine.errors import DataError
from engine.samples import sample_digit

from ..deps import ManagerDep, SettingsDep
from ..limits import StrictJSONRoute
from ..modelcache import default_digit_model, load_cached
from ..pngdata import ImageTooLarge, decode_data_url
from ..schemas import DigitPublic, DigitRequest, DigitSamplePublic, ErrorPublic, FirstLayerPublic

router = APIRouter(prefix="/api/digits", tags=["digits"], route_class=StrictJSONRoute,
                   responses={413: {"model": ErrorPublic}, 422: {"model": ErrorPublic}})
DIGIT_DATASETS = ("mnist",)


async def _job_model(job_id: str, manager):
    job = await manager.get_job(job_id)
    if job["spec"]["dataset"]["name"] not in DIGIT_DATASETS:
        raise HTTPException(422, f"job_id: job {job_id} trains on {job['spec']['dataset']['name']!r}, "
                                 f"not a digit dataset ({', '.join(DIGIT_DATASETS)})")
    if not manager.artifacts.exists(job_id):  # the server's artifact store, never a worker's path
        raise HTTPException(409, f"job_id: job {job_id} has no saved model yet (status {job['status']}); "
                                 "try again after its first epoch")
    return await run_in_threadpool(load_cached, manager.model_path(job_id))


def _read(body: DigitRequest, settings):
    if body.image is not None:
        return decode_data_url(body.image, settings.max_image_side, settings.max_image_pixels)
    # point count, coordinate range and pen travel are checked by the engine's rasterizer (engine.Limits)
    return body.strokes


def _prepare(body: DigitRequest, settings) -> np.ndarray:
    """The drawing as the (28, 28) float32 image the model sees; 413/422 for bad input."""
    try:
        return prepare_drawing(_read(body, settings))
    except ImageTooLarge as e:
        raise HTTPException(413, str(e)) from None
    except DataError as e:
        raise HTTPException(422, str(e) if str(e).startswith(("image", "strokes")) else f"drawing: {e}") from None
    except (TypeError, ValueError) as e:
        raise HTTPException(422, f"strokes: must be a list of strokes, each a list of [x, y] points ({e})") from None


def _predict(image: np.ndarray, model) -> dict:
    try:
        return read_digit(image, model)      # the engine reads the outputs (labels, probabilities)
    except DataError as e:
        raise HTTPException(422, str(e)) from None


@router.post("/predict", response_model=DigitPublic, summary="Read a drawn digit (PNG data URL or strokes)")
async def predict_digit(body: DigitRequest, manager: ManagerDep, settings: SettingsDep) -> dict:
    """Reads one drawn digit (a PNG data URL or pen strokes) with the shipped model or a job's: the 28x28 image the
    model saw, the label and the probability per digit."""
    if (body.image is None) == (body.strokes is None):
        raise HTTPException(422, "give exactly one of image (a PNG data URL) or strokes")
    image = await run_in_threadpool(_prepare, body, settings)
    if body.job_id:
        model, name = await _job_model(body.job_id, manager), body.job_id
    else:
        try:
            model, name = await run_in_threadpool(default_digit_model), "default"
        except DataError as e:
            raise HTTPException(503, str(e)) from None
    result = await run_in_threadpool(_predict, image, model)
    return {**result, "model": name}


@router.get("/sample", response_model=DigitSamplePublic,
            summary="A real MNIST test digit (from the 1,000 shipped with the project)")
async def read_digit_sample(index: Optional[int] = Query(None, ge=0, le=999,
                                                         description="which one; random when left out")) -> dict:
    """One of the 1,000 shipped MNIST test digits (random, or `index`), with its true label."""
    return sample_digit(index)


@router.get("/first-layer", response_model=FirstLayerPublic, responses={404: {"model": ErrorPublic}},
            summary="The first layer's conv filters or dense weight templates as pictures",
            description="For `job_id` (an MNIST job with a saved model) or the shipped model: each picture is "
                        "scaled on its own, 128 = a zero weight, 0 / 255 = minus / plus its largest |weight|; "
                        "at most 64 pictures.")
async def read_first_layer(manager: ManagerDep, job_id: Optional[str] = Query(None, max_length=64)) -> dict:
    from engine.first_layer import first_layer_images

    if job_id:
        model = await _job_model(job_id, manager)
    else:
        try:
            model = await run_in_threadpool(default_digit_model)
        except DataError as e:
            raise HTTPException(503, str(e)) from None
    try:
        return await run_in_threadpool(first_layer_images, model)
    except DataError as e:
        raise HTTPException(422, str(e)) from None
