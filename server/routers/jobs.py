from __future__ import annotations

import csv
import io
import json
import os
from typing import Optional

import numpy as np
from pydantic import TypeAdapter
from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse

import engine

from engine.datasets.inline import DATA_KEYS, inline_summary

from ..deps import Authorized, ManagerDep, SettingsDep
from ..jsonparse import dumps
from ..limits import StrictJSONRoute
from ..modelcache import load_cached
from ..schemas import (COMMAND_BODY, JOB_EXAMPLE, ErrorPublic, EvaluationCellPublic, EvaluationPublic, GeneratePublic,
                       GenerateRequest, HistoryPublic, JobCreate, JobList, JobPublic, JobRename, JobStatus,
                       PredictPublic, PredictRequest, WeightsPublic)

ERRORS = {404: {"model": ErrorPublic}, 422: {"model": ErrorPublic}}
MAX_OFFSET = 10**9        # more jobs than any home holds; SQLite cannot even take 2**63
MAX_EPOCH = 2**63 - 1     # SQLite's largest integer: `since` beyond it cannot be compared
router = APIRouter(prefix="/api/jobs", tags=["jobs"], route_class=StrictJSONRoute, responses=ERRORS)


def _nan_to_none(value):
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    return None if isinstance(value, float) and value != value else value


def json_array(a: np.ndarray) -> list:
    a = np.asarray(a, dtype=np.float64)
    if np.isfinite(a).all():
        return a.tolist()
    return _nan_to_none(np.where(np.isfinite(a), a, np.nan).tolist())


def prepare_spec(raw: dict, limits) -> tuple[dict, list, int]:
    """engine.normalize (raises SpecError -> 422) plus the model summary and parameter count."""
    spec = engine.normalize(raw, limits)
    model = engine.build_model(spec["model"])
    return spec, model.summary(), model.n_params()


@router.post("", status_code=201, response_model=JobPublic, dependencies=[Authorized],
             responses={429: {"model": ErrorPublic}}, summary="Queue a training job")
async def create_job(body: JobCreate, manager: ManagerDep, settings: SettingsDep) -> JSONResponse:
    """Validates the job spec (422 naming the field), stores it and queues it; 429 when the queue is full.
    `init_from` starts from another job's saved weights and optimizer state."""
    raw = await run_in_threadpool(_spec_of, body)
    given = raw.pop("init_from", None) or {}      # not part of the job spec the engine checks
    init_from, init_layers = given.get("job_id"), given.get("layers")
    paused = bool(raw.pop("paused", None))        # nor is starting paused
    spec, summary, n_params = await run_in_threadpool(prepare_spec, raw, settings.engine_limits())
    if init_from is not None:
        await manager.check_init_from(init_from, spec["model"], init_layers)  # 422 before queueing
    job = await manager.create_job(spec, summary, n_params, init_from=init_from, init_layers=init_layers,
                                   paused=paused)
    return await rendered(manager.public(job), 201)


def _spec_of(body: JobCreate) -> dict:
    """body.model_dump(exclude_unset=True), but inline rows are the parsed lists themselves, not copies
    (copying 200,000 numbers is 50 ms of one C call that holds the GIL; nothing changes the lists)."""
    data = {k: getattr(body.dataset, k) for k in DATA_KEYS if k in body.dataset.model_fields_set}
    if not data:
        return body.model_dump(exclude_unset=True)
    raw = body.model_dump(exclude_unset=True, exclude={"dataset": set(data)})
    raw["dataset"].update(data)
    return raw


async def rendered(body: dict, status_code: int = 200, model=JobPublic) -> Response:
    """A job's answer carries its spec, inline data summarised beyond ECHO_VALUES numbers (the full spec:
    GET /api/jobs/{id}/spec); rendered off the event loop (FastAPI would serialize it on the loop; the
    response_model still documents it)."""
    return await run_in_threadpool(_render, body, status_code, model)


def _brief(job: dict) -> dict:
    spec = job.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("dataset"), dict):
        return job
    return {**job, "spec": {**spec, "dataset": inline_summary(spec["dataset"])}}


def _render(body: dict, status_code: int, model) -> Response:
    body = {**body, "items": list(map(_brief, body["items"]))} if model is JobList else _brief(body)
    try:
        return JSONResponse(body, status_code)
    except ValueError:  # a NaN in a record (a diverged loss): the model's serializer writes it as null
        return Response(TypeAdapter(model).dump_json(body), status_code, media_type="application/json")


@router.get("", response_model=JobList, summary="List jobs, newest first")
async def list_jobs(manager: ManagerDep, status: Optional[JobStatus] = None,
                    limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> dict:
    """Jobs newest first, one page (`limit`, `offset`), optionally of one `status`; `total` counts them all."""
    items, total = await manager.list_jobs(status, limit, offset)
    return await rendered({"items": [manager.public(j) for j in items], "total": total}, model=JobList)


@router.get("/{job_id}", response_model=JobPublic, summary="One job: spec, status, progress, metrics, outcome")
async def read_job(job_id: str, manager: ManagerDep) -> dict:
    """The stored job: normalized spec, status, epoch and progress, latest and best epoch records, outcome and
    message, readable name. 404 for an unknown id."""
    return await rendered(manager.public(await manager.get_job(job_id)))


@router.get("/{job_id}/spec", response_model=dict, summary="The job's whole normalized spec, inline data included",
            responses={200: {"content": {"application/json": {"example": JOB_EXAMPLE}}}})
async def read_job_spec(job_id: str, manager: ManagerDep) -> Response:
    """The spec as stored, every inline row in it (a job's other answers summarise inline data of more than
    ECHO_VALUES numbers). Written a piece at a time in a thread: megabytes of rows never stall the loop."""
    job = await manager.get_job(job_id)
    text = await run_in_threadpool(dumps, job["spec"])
    return Response(text, media_type="application/json")


@router.patch("/{job_id}", response_model=JobPublic, dependencies=[Authorized], summary="Rename a run",
              description='`{"name": "..."}` (at most 80 characters) names the run; `null` or `""` restores the name '
                          'generated from its spec ("spiral · 8-8 tanh · adam 0.03").')
async def rename_job(job_id: str, body: JobRename, manager: ManagerDep) -> dict:
    return await rendered(await manager.rename_job(job_id, body.name))


@router.post("/{job_id}/cancel", response_model=JobPublic, dependencies=[Authorized],
             summary="Cancel a job (idempotent)")
async def cancel_job(job_id: str, manager: ManagerDep) -> dict:
    """Stops a queued or running job; the model keeps the weights it has. Cancelling a finished job changes nothing."""
    return await rendered(manager.public(await manager.cancel_job(job_id)))


@router.delete("/{job_id}", status_code=204, dependencies=[Authorized], response_class=Response,
               summary="Cancel if needed, then delete the job, its history and its model file")
async def delete_job(job_id: str, manager: ManagerDep) -> Response:
    """Cancels the job if it is still active, then removes it, its epoch history and its model file."""
    await manager.delete_job(job_id)
    return Response(status_code=204)


@router.post("/{job_id}/commands", response_model=JobPublic, dependencies=[Authorized], openapi_extra=COMMAND_BODY,
             summary="pause / resume / step / cancel / set learning_rate (same as the WebSocket)")
async def command_job(job_id: str, request: Request, manager: ManagerDep) -> dict:
    """Sends one command to a running job, the same dicts as the WebSocket (/docs/websocket), checked by the same
    rule: 422 names the field and the allowed range."""
    # the raw body goes to engine.check_command (via the manager), exactly as a socket message does;
    # StrictJSONRoute has already refused malformed JSON
    body = await request.body()
    return await rendered(await manager.send_command(job_id, json.loads(body) if body else None))


@router.get("/{job_id}/history", response_model=HistoryPublic,
            responses={200: {"content": {"text/csv": {}}}},
            summary="Epoch metrics after `since`, one page (JSON), or all of them (?format=csv)")
async def read_history(job_id: str, manager: ManagerDep, settings: SettingsDep,
                       format: str = Query("json", pattern="^(json|csv)$"),
                       since: int = Query(0, ge=0, le=MAX_EPOCH, description="epochs after this one"),
                       limit: Optional[int] = Query(None, ge=1, description="epochs per page: default history_page, "
                                                    "at most max_history_page (larger values are clamped)")):
    """Epoch records after `since`, one page of JSON (`next_since` asks for the next), or every epoch as a CSV
    download with `?format=csv`."""
    page = min(limit or settings.history_page, settings.max_history_page)
    if format == "csv" and limit is None:  # a download: every epoch, read and written a page at a time
        first = await manager.history(job_id, since, page)
        return StreamingResponse(_csv_pages(manager, job_id, first, page), media_type="text/csv",
                                 headers={"Content-Disposition": f'attachment; filename="{job_id}-history.csv"'})
    records = await manager.history(job_id, since, page + 1)  # one more says whether a next page exists
    records, more = records[:page], len(records) > page
    if format == "json":
        return {"job_id": job_id, "epochs": records, "next_since": records[-1]["epoch"] if more else None}
    return Response(_csv_text(records, _columns(records), header=True), media_type="text/csv")


def _columns(records: list[dict]) -> list[str]:
    return list(dict.fromkeys(k for r in records for k in r)) or ["epoch"]


def _csv_text(records: list[dict], columns: list[str], header: bool) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    if header:
        writer.writeheader()
    writer.writerows(records)
    return out.getvalue()


async def _csv_pages(manager, job_id: str, records: list[dict], page: int):
    """CSV text page by page (columns: those of the first page), so a long history is never held whole."""
    columns, header = _columns(records), True
    while True:
        yield _csv_text(records, columns, header)
        header = False
        if len(records) < page:
            return
        records = await manager.history(job_id, records[-1]["epoch"], page)


async def _model_path(job_id: str, manager) -> str:
    return await manager.model_file(job_id)  # 404 naming the job when there is no model file yet


@router.get("/{job_id}/model", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}}}, summary="The model file (.npz)")
async def read_model(job_id: str, manager: ManagerDep) -> FileResponse:
    """The model file (.npz: weights, optimizer state, task and class names) for `nnplay predict`, NumPy or
    a new job's `init_from`. 404 until the first checkpoint."""
    path = await _model_path(job_id, manager)
    return FileResponse(path, media_type="application/octet-stream", filename=f"nnplay-{job_id}.npz")


@router.get("/{job_id}/weights", response_model=WeightsPublic, responses={413: {"model": ErrorPublic}},
            summary="Weights as JSON (small models only)")
async def read_weights(job_id: str, manager: ManagerDep, settings: SettingsDep) -> dict:
    """Every parameter as nested lists keyed like `0.W`; 413 for models over the server's size limit (download the
    model file instead)."""
    path = await _model_path(job_id, manager)
    model = await run_in_threadpool(load_cached, path)
    n = model.n_params()
    if n > settings.max_weights_params:
        raise HTTPException(413, f"the model has {n:,} parameters; weights as JSON are limited to "
                                 f"{settings.max_weights_params:,} (max_weights_params); download "
                                 f"/api/jobs/{job_id}/model instead")
    weights = model.get_weights()
    return {"job_id": job_id, "n_params": n, "weights": {k: json_array(v) for k, v in weights.items()},
            "shapes": {k: list(v.shape) for k, v in weights.items()}}


def raw_input_shape(model) -> tuple:
    """Shape of one raw input row: 2-D points when the model applies input features, else its input shape."""
    pipeline = getattr(model, "pipeline", None)
    if pipeline is not None and pipeline.features:
        return (2,)
    return tuple(model.spec["input_shape"])


def _predict(model, inputs: list, max_rows: int) -> dict:
    if len(inputs) > max_rows:
        raise HTTPException(413, f"inputs: at most {max_rows} rows per request (max_predict_rows), got {len(inputs)}")
    try:
        x = np.asarray(inputs, dtype=np.float64)
    except (ValueError, TypeError):
        raise HTTPException(422, "inputs: must be a rectangular list of rows of numbers") from None
    want = raw_input_shape(model)
    if x.ndim < 2 or x.shape[1:] != want:
        raise HTTPException(422, f"inputs: each row must have shape {list(want)}, got rows of shape "
                                 f"{list(x.shape[1:])}")
    if not np.isfinite(x).all():
        raise HTTPException(422, "inputs: must be finite numbers")
    try:
        with np.errstate(over="ignore", invalid="ignore"):   # overflow is answered below, not warned in the log
            out = model.predict(x)
    except (ValueError, engine.SpecError) as e:
        raise HTTPException(422, f"inputs: {e}") from None
    bad = ~np.isfinite(np.asarray(out, dtype=np.float64)).reshape(len(x), -1).all(axis=1)
    if bad.any():  # (N, ...) outputs that overflowed to inf/NaN: refused rather than sent as nulls
        rows = np.flatnonzero(bad)[:10].tolist()
        raise HTTPException(422, f"outputs: the model's outputs are not finite for input rows {rows} (the numbers "
                                 f"overflow float64); use inputs of the size the model was trained on")
    body = {"outputs": json_array(out)}
    if model.is_classifier:  # the loss says what the outputs mean, as in training and on the boundary
        body["probabilities"] = json_array(model.loss.probabilities(out))
        body["labels"] = model.loss.labels(out).tolist()
        body["class_names"] = model.class_names
    return body


@router.post("/{job_id}/predict", response_model=PredictPublic, summary="Run the job's model on raw inputs")
async def predict_job(job_id: str, body: PredictRequest, manager: ManagerDep, settings: SettingsDep) -> dict:
    """Runs the job's saved model on raw input rows; answers the outputs and, for classifiers, the labels and
    probabilities as the model's loss reads them."""
    path = await _model_path(job_id, manager)
    model = await run_in_threadpool(load_cached, path)
    return await run_in_threadpool(_predict, model, body.inputs, settings.max_predict_rows)


@router.post("/{job_id}/generate", response_model=GeneratePublic, summary="Sample text from a character model")
async def generate_job_text(job_id: str, body: GenerateRequest, manager: ManagerDep, settings: SettingsDep) -> dict:
    """For a job trained on the `text` dataset (finished, or still training: its latest checkpoint): `length`
    characters sampled after `prompt` at `temperature`, seeded. 422 naming the field: a prompt character outside
    the model's vocabulary, a length over the limit, a job that is not a character model."""
    from engine.sampling import check_generate, generate_text
    job = await manager.get_job(job_id)
    if (job["spec"].get("dataset") or {}).get("name") != "text":
        raise engine.SpecError(f"job {job_id} was trained on {job['spec']['dataset'].get('name')}, not on the text "
                               "dataset: only character models generate text", "job_id")
    path = await _model_path(job_id, manager)
    model = await run_in_threadpool(load_cached, path)
    options = check_generate(body.model_dump(), model.class_names, settings.engine_limits())
    text = await run_in_threadpool(generate_text, model, options["prompt"], options["length"],
                                   options["temperature"], options["seed"])
    return {"job_id": job_id, "epoch": job.get("epoch"), "text": text, **options}


def _sequence_examples(job: dict, path: str, count: int) -> dict:
    from engine.sequence_examples import sequence_examples
    return sequence_examples(load_cached(path), engine.load_dataset(job["spec"]["dataset"]), count)


@router.get("/{job_id}/sequences", summary="Test sequences with the model's predictions (sequence datasets)")
async def read_job_sequences(job_id: str, manager: ManagerDep, count: int = Query(8, ge=1, le=32)) -> dict:
    """The first `count` test sequences of a job on a sequence dataset (sine, memory, adding, text): the first
    input channel over time, the target and the prediction (engine.sequence_examples); 422 for other datasets."""
    job = await manager.get_job(job_id)
    name = (job["spec"].get("dataset") or {}).get("name")
    from engine.datasets import DATASETS
    if name not in DATASETS or DATASETS.get(name).kind != "sequence":
        raise engine.SpecError(f"job {job_id} was trained on {name}, not on a sequence dataset", "job_id")
    path = await _model_path(job_id, manager)
    return await run_in_threadpool(_sequence_examples, job, path, count)


EVALUATIONS: dict[tuple[str, float], dict] = {}  # (job id, model file mtime) -> result; small, recomputed on change
MAX_CACHED_EVALUATIONS = 16
CELL_EXAMPLES = 24  # test examples kept per confusion cell, for /evaluation/cell (16 jobs x 100 cells x 24 x ~1 KB)


def _evaluate(job_id: str, job: dict, path: str) -> dict:
    from engine.evaluation import evaluate_classifier
    key = (job_id, os.path.getmtime(path))
    if key not in EVALUATIONS:
        ds = engine.load_dataset(job["spec"]["dataset"])  # the stored spec is already normalized
        if ds.task != "classification" or ds.x_test is None:
            raise HTTPException(422, f"job {job_id}: evaluation needs a classification dataset with a test set")
        if len(EVALUATIONS) >= MAX_CACHED_EVALUATIONS:
            EVALUATIONS.clear()
        EVALUATIONS[key] = evaluate_classifier(load_cached(path), ds.x_test, ds.y_test, ds.class_names,
                                               per_cell=CELL_EXAMPLES)
    return EVALUATIONS[key]


@router.get("/{job_id}/evaluation", response_model=EvaluationPublic, responses={409: {"model": ErrorPublic}},
            summary="Confusion matrix and the most confidently misread test examples")
async def read_evaluation(job_id: str, manager: ManagerDep) -> dict:
    """For a classifier with a test set: the confusion matrix (rows true class, columns predicted), the accuracy and
    the most confidently misread test examples (images for digit sets)."""
    path = await _model_path(job_id, manager)  # 404 when there is no model yet
    return await run_in_threadpool(_evaluate, job_id, await manager.get_job(job_id), path)


@router.get("/{job_id}/evaluation/cell", response_model=EvaluationCellPublic,
            summary="The test examples behind one confusion-matrix cell",
            description="Test examples of true class `label` read as `predicted`, the most confident reading "
                        f"first (at most {CELL_EXAMPLES}), with the cell's full count.")
async def read_evaluation_cell(job_id: str, manager: ManagerDep, label: int = Query(ge=0, le=10_000),
                               predicted: int = Query(ge=0, le=10_000)) -> dict:
    path = await _model_path(job_id, manager)
    evaluation = await run_in_threadpool(_evaluate, job_id, await manager.get_job(job_id), path)
    cell = evaluation["cells"].get(f"{label},{predicted}", {"count": 0, "examples": []})
    return {"label": label, "predicted": predicted, **cell}
