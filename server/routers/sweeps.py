"""Hyperparameter sweeps: create (every trial checked before any runs), read, list, cancel, narrow."""
from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from engine.sweeps import narrowed_sweep, plan_sweep

from ..deps import Authorized, SettingsDep, SweepsDep
from ..jobs.errors import JobError
from ..limits import StrictJSONRoute
from ..schemas import ErrorPublic, SweepCreate, SweepList, SweepProposal, SweepPublic

ERRORS = {404: {"model": ErrorPublic}, 422: {"model": ErrorPublic}}
router = APIRouter(prefix="/api/sweeps", tags=["sweeps"], route_class=StrictJSONRoute, responses=ERRORS)


@router.post("", status_code=201, response_model=SweepPublic, dependencies=[Authorized],
             summary="Start a hyperparameter sweep: one job per trial")
async def create_sweep(body: SweepCreate, sweeps: SweepsDep, settings: SettingsDep) -> dict:
    """Draws the trials (seeded: the same sweep draws the same trials), checks every trial's job spec with the
    engine (one bad trial: 422 naming `parameters.<path>` or `base.<field>`, nothing is queued), stores the sweep
    and starts `max_parallel` trials; the others wait in the sweep, not in the server's queue."""
    raw = body.model_dump(exclude_unset=True)
    sweep, trials = await run_in_threadpool(plan_sweep, raw, settings.engine_limits())
    return await sweeps.create_sweep(sweep, trials)


@router.get("", response_model=SweepList, summary="List sweeps, newest first")
async def list_sweeps(sweeps: SweepsDep, limit: int = Query(50, ge=1, le=500),
                      offset: int = Query(0, ge=0, le=10**9)) -> dict:
    """Every sweep, newest first, one page (`limit`, `offset`): its status and options; `total` counts them all."""
    items, total = await sweeps.list_sweeps(limit, offset)
    return {"items": items, "total": total}


@router.get("/{sweep_id}", response_model=SweepPublic, summary="One sweep: every trial's params, status and best "
                                                              "metric, and the best trial")
async def read_sweep(sweep_id: str, sweeps: SweepsDep) -> dict:
    """Every trial's params, status (`waiting` while it waits in the sweep, then its job's), epoch and best value
    of the sweep's metric, why early termination stopped it; the best trial so far; 404 for an unknown id."""
    return await sweeps.read_sweep(sweep_id)


@router.post("/{sweep_id}/cancel", response_model=SweepPublic, dependencies=[Authorized],
             summary="Cancel every unfinished trial (idempotent)")
async def cancel_sweep(sweep_id: str, sweeps: SweepsDep) -> dict:
    """No more trials start; waiting trials are cancelled where they wait (they never become jobs) and running
    ones are cancelled like POST /api/jobs/{id}/cancel. Cancelling a finished sweep changes nothing."""
    return await sweeps.cancel_sweep(sweep_id)


@router.get("/{sweep_id}/narrowed", response_model=SweepProposal, responses={409: {"model": ErrorPublic}},
            summary="The next sweep: each range narrowed around the best trial")
async def read_narrowed_sweep(sweep_id: str, sweeps: SweepsDep,
                              factor: float = Query(0.5, gt=0, le=1, description="new width / old width, "
                                                                                 "in each range's scale")) -> dict:
    """Each range half as wide (in its scale: log for log_uniform) around the best trial's value, inside the old
    range; listed values kept; seed + 1. POST the `sweep` to /api/sweeps to run it."""
    sweep = await sweeps.read_sweep(sweep_id)
    if sweep["best"] is None:
        raise JobError(409, f"sweep {sweep_id} has no trial with a {sweep['metric']} yet; wait for one to report")
    spec = {k: sweep[k] for k in ("base", "method", "n_trials", "metric", "goal", "seed", "max_parallel",
                                  "parameters", "early_termination")}
    return {"sweep": narrowed_sweep(spec, sweep["best"]["params"], factor)}
