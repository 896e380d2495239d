"""POST /api/datasets/preview: the points of a 2-D dataset, so the UI can draw them before training."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.concurrency import run_in_threadpool

import engine
from engine.spec import normalize_dataset_spec

from ..deps import SettingsDep
from ..limits import StrictJSONRoute
from ..schemas import ErrorPublic, PreviewPublic, PreviewRequest

router = APIRouter(prefix="/api/datasets", tags=["datasets"], route_class=StrictJSONRoute,
                   responses={422: {"model": ErrorPublic}})


def _preview(spec: dict, limits) -> dict:
    try:
        ds = engine.load_dataset(normalize_dataset_spec(spec, limits))
    except (engine.SpecError, engine.DataError) as e:
        raise HTTPException(422, str(e)) from None
    if ds.points_train is None or ds.domain is None:
        raise HTTPException(422, f"dataset.name: {ds.name} is not a 2-D dataset; previews show 2-D points only")

    def labels(y):
        return [] if y is None else y.reshape(len(y), -1)[:, 0].astype(float).tolist()
    return {"name": ds.name, "task": ds.task, "n_classes": ds.n_classes, "class_names": ds.class_names,
            "domain": ds.domain, "points_train": ds.points_train.tolist(), "labels_train": labels(ds.y_train),
            "points_test": [] if ds.points_test is None else ds.points_test.tolist(), "labels_test": labels(ds.y_test)}


@router.post("/preview", response_model=PreviewPublic, summary="Generate a 2-D dataset's points without training")
async def preview_dataset(body: PreviewRequest, settings: SettingsDep) -> dict:
    """The train and test points and labels of a 2-D dataset spec, generated as training would (same seed, noise and
    split), for drawing the data before any job runs. 422 for image sets."""
    spec = body.dataset.model_dump(exclude_unset=True)
    return await run_in_threadpool(_preview, spec, settings.engine_limits())
