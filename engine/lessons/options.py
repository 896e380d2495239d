"""Top-level request options of a lesson endpoint, checked by their Params (problems named by the bare key)."""
from __future__ import annotations

from ..errors import Problem, SpecError
from ..params import Param, resolve_params


def request_options(params: list[Param], request: object, other_keys: tuple = ()) -> dict:
    """{param name: value with defaults filled}; SpecError at "steps", not ".steps"; other_keys are read by the
    caller (surface, start, ...); any key in neither is refused."""
    if not isinstance(request, dict):
        raise SpecError("must be a JSON object")
    given = {k: v for k, v in request.items() if k not in other_keys}
    try:
        return resolve_params(params, given, "")
    except SpecError as e:
        raise SpecError([Problem(p.path.lstrip("."), p.message) for p in e.problems]) from None
