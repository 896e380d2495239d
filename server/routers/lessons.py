"""The lessons' endpoints: the numbers a slide would print, computed by engine.lessons (the page only draws)."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from engine.lessons.backprop import NETWORK_PRESETS, SATURATED_NEURON, backprop_step
from engine.lessons.expression import EXPRESSION_PRESETS, differentiate
from engine.lessons.ops import FUNCTIONS

from ..deps import SettingsDep
from ..limits import StrictJSONRoute
from ..schemas import (BackpropPresetsPublic, BackpropPublic, BackpropRequest, ErrorPublic, ExpressionPublic,
                       ExpressionRequest)

router = APIRouter(prefix="/api/lessons", tags=["lessons"], route_class=StrictJSONRoute,
                   responses={422: {"model": ErrorPublic}})


# ---- 1. backprop, step by step (/lessons/backprop) ----
@router.post("/expression", response_model=ExpressionPublic,
             summary="Value, gradients and every node of a small expression (the computation-graph lesson)")
async def differentiate_expression(body: ExpressionRequest, settings: SettingsDep) -> dict:
    """Parses a small expression (whitelisted operators, no eval) and answers its value, the gradient for every
    variable and every node in evaluation order."""
    return await run_in_threadpool(differentiate, body.expression, body.values, settings.engine_limits())


@router.post("/backprop", response_model=BackpropPublic,
             summary="One forward, backward and SGD step of a small dense network, every number per layer")
async def step_backprop(body: BackpropRequest, settings: SettingsDep) -> dict:
    """One forward, backward and SGD step of a small dense network, with every per-layer number a slide would print
    (net, out, local and upstream gradients, updated weights)."""
    model = body.model.model_dump(exclude_unset=True)
    return await run_in_threadpool(backprop_step, model, body.x, body.y, body.learning_rate, body.steps,
                                   settings.engine_limits())


@router.get("/backprop/presets", response_model=BackpropPresetsPublic,
            summary="The lectures' worked examples the backprop lesson starts from")
async def read_backprop_presets() -> dict:
    """The lectures' worked examples (networks, inputs, targets) the backprop lesson starts from."""
    return {"expressions": EXPRESSION_PRESETS, "networks": NETWORK_PRESETS, "saturated_neuron": SATURATED_NEURON,
            "functions": list(FUNCTIONS)}
# ---- end 1. backprop ----


# ---- 2. optimizers and 3. initialization (/lessons/optimizers, /lessons/initialization) ----
from typing import Annotated, Any  # noqa: E402

from fastapi import Body  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402

from engine.lessons.initialization import OPTIONS as INIT_OPTIONS, PRESETS as INIT_PRESETS  # noqa: E402
from engine.lessons.initialization import activation_statistics  # noqa: E402
from engine.lessons.optimizer_paths import lesson_catalog, momentum_phase, optimizer_paths  # noqa: E402

JsonBody = Annotated[Any, Body()]  # checked by the engine (SpecError -> 422 naming the field)


def _numbers(body: dict) -> JSONResponse:
    # large nested number lists: json.dumps directly, skipping FastAPI's recursive encoder (~3x faster here)
    return JSONResponse(body)


@router.get("/optimizers", summary="Surfaces, presets and request options of the optimizers lesson")
async def read_optimizers_lesson() -> dict:
    """The loss surfaces, optimizer presets and request options of the optimizers lesson."""
    return lesson_catalog()


@router.post("/optimizers", summary="Paths of engine optimizers racing over a 2-D loss surface")
async def create_optimizer_paths(body: JsonBody) -> JSONResponse:
    """Steps each given engine optimizer over a 2-D loss surface from one start and answers the paths, losses and
    where a path diverged, with the surface's contour grid."""
    return _numbers(await run_in_threadpool(optimizer_paths, body))


@router.post("/optimizers/phase", summary="Momentum phase diagram: steps to converge per learning rate x momentum")
async def create_momentum_phase(body: JsonBody) -> JSONResponse:
    """For a grid of learning rates and momenta: how many steps plain momentum needs to converge on the surface (or
    that it diverged)."""
    return _numbers(await run_in_threadpool(momentum_phase, body))


@router.get("/initialization", summary="Request options and the lectures' presets of the initialization lesson")
async def read_initialization_lesson() -> dict:
    """The request options and the lectures' presets of the initialization lesson."""
    return {"options": [p.to_json() for p in INIT_OPTIONS], "presets": INIT_PRESETS}


@router.post("/initialization", summary="Per-layer activation histograms and gradient spread of a deep stack")
async def create_activation_statistics(body: JsonBody) -> JSONResponse:
    """Pushes a batch through a deep stack built with the chosen initializer and activation and answers each layer's
    activation histogram, saturation and gradient spread."""
    return _numbers(await run_in_threadpool(activation_statistics, body))
# ---- end 2. optimizers and 3. initialization ----
