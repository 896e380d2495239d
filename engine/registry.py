"""A tiny name -> entry registry, one instance per family (activations, layers, optimizers, ...)."""
from __future__ import annotations

from typing import Any, Callable

from .errors import UnknownNameError


class Registry:
    def __init__(self, family: str):
        self.family = family
        self._entries: dict[str, Any] = {}

    def register(self, name: str) -> Callable[[Any], Any]:
        def decorator(entry: Any) -> Any:
            if name in self._entries:
                raise ValueError(f"{self.family} {name!r} registered twice")
            self._entries[name] = entry
            entry.type_name = name  # the registered name, for summaries and saved specs
            return entry
        return decorator

    def get(self, name: object, path: str = "") -> Any:
        if not isinstance(name, str) or name not in self._entries:
            raise UnknownNameError(self.family, name, self.names(), path)
        return self._entries[name]

    def names(self) -> list[str]:
        return list(self._entries)

    def items(self):
        return self._entries.items()

    def __contains__(self, name: object) -> bool:
        return name in self._entries
