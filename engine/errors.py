"""Errors the engine raises for bad specs and data: each names the field and what is allowed."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    path: str     # dotted field path, e.g. "model.layers.1.units"
    message: str  # what is wrong and what is allowed

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class SpecError(ValueError):
    """One or more problems in a spec; `problems` lists them all."""

    def __init__(self, problems: list[Problem] | Problem | str, path: str = ""):
        if isinstance(problems, str):
            problems = [Problem(path, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class UnknownNameError(SpecError, KeyError):
    """A name that is not in its registry; the message lists the valid names."""

    def __init__(self, family: str, name: object, valid: list[str], path: str = ""):
        self.family, self.name, self.valid = family, name, valid
        super().__init__(Problem(path, f"unknown {family} {name!r}; valid names: {', '.join(valid)}"))

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return ValueError.__str__(self)


class DataError(ValueError):
    """A data file or upload that cannot be read (corrupt, truncated, wrong format)."""
