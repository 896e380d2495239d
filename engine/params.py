"""Param: the single description of a user-settable option (type, default, range, help).

Registries attach a list of Params to each entry; `resolve_params` validates a user dict against
them, and the catalog / the server's schemas / the UI read the same list.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from .errors import Problem, SpecError

KINDS = ("int", "float", "bool", "choice", "int_list", "float_list", "str")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    default: Any = None
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None
    help: str = ""
    nullable: bool = False
    min_exclusive: bool = False

    def to_json(self) -> dict:
        d = asdict(self)
        d["type"] = d.pop("kind")
        if d["choices"] is not None:
            d["choices"] = list(d["choices"])
        # choices taken from a registry: which family, so a form can offer the chosen entry's own options
        # (random_normal's stddev, leaky_relu's alpha)
        d["choices_from"] = getattr(self.choices, "family", None)
        return d

    def _range_text(self) -> str:
        lo = "" if self.min is None else f"{'>' if self.min_exclusive else '>='} {self.min}"
        hi = "" if self.max is None else f"<= {self.max}"
        return " and ".join(t for t in (lo, hi) if t)

    def check(self, value: Any, path: str) -> Any:
        """Return the value coerced to this param's kind, or raise SpecError naming `path`."""
        if value is None:
            if self.nullable:
                return None
            raise SpecError(f"is required ({self.kind})", path)
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise SpecError(f"must be true or false, got {value!r}", path)
            return value
        if self.kind == "choice":
            # a choice may carry its own options: {"name": "leaky_relu", "alpha": 0.2}
            name = value.get("name") if isinstance(value, dict) else value
            if not isinstance(name, (str, int, float)) or name not in self.choices:
                raise SpecError(f"must be one of {', '.join(map(str, self.choices))}; got {value!r}", path)
            return value
        if self.kind == "str":
            if not isinstance(value, str):
                raise SpecError(f"must be a string, got {type(value).__name__}", path)
            return value
        if self.kind in ("int_list", "float_list"):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = [value]
            if not isinstance(value, (list, tuple)) or not value:
                raise SpecError(f"must be a non-empty list of numbers, got {value!r}", path)
            scalar = "int" if self.kind == "int_list" else "float"
            return [self._number(v, f"{path}.{i}", scalar) for i, v in enumerate(value)]
        return self._number(value, path, self.kind)

    def _number(self, value: Any, path: str, kind: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpecError(f"must be a number ({kind}), got {value!r}", path)
        if not math.isfinite(value):
            raise SpecError(f"must be a finite number, got {value!r}", path)
        if kind == "int":
            if value != int(value):
                raise SpecError(f"must be a whole number, got {value!r}", path)
            value = int(value)
        else:
            value = float(value)
        too_low = self.min is not None and (value <= self.min if self.min_exclusive else value < self.min)
        too_high = self.max is not None and value > self.max
        if too_low or too_high:
            raise SpecError(f"must be {self._range_text()}, got {value!r}", path)
        return value


def resolve_params(params: list[Param], given: dict | None, path: str, ignore: tuple = ()) -> dict:
    """Validate `given` against `params`: fill defaults, coerce, reject unknown keys. Collects every problem."""
    given = dict(given or {})
    known = {p.name for p in params}
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    for key in given:
        if key not in known and key not in ignore:
            allowed = ", ".join(sorted(known)) or "none"
            problems.append(Problem(f"{path}.{key}", f"unknown option; allowed options: {allowed}"))
    for p in params:
        try:
            out[p.name] = p.check(given.get(p.name, p.default), f"{path}.{p.name}")
        except SpecError as e:
            problems.extend(e.problems)
    if problems:
        raise SpecError(problems)
    return out
