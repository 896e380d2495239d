"""A tiny name -> entry registry, one instance per family (activations, layers, optimizers, ...).

Classes and functions register the same way, and afterwards carry the same three attributes:

    @OPTIMIZERS.register("adam", doc="momentum plus RMSprop scaling", params=[Param("beta_1", ...), ...])
    class Adam(Optimizer): ...

    entry.name     the registered name ("adam"); instances of a class entry see it too
    entry.doc      one line for the catalog (default: the first line of the docstring)
    entry.options  the list of Params it accepts (not `params`: on a layer that is its weight dict)

`build(spec, path)` turns "a name or {name, options...}" into the built entry (the class called with
the resolved options); every problem names its field path, as `resolve_params` does.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

from .errors import UnknownNameError
from .params import Param, resolve_params


class Registry:
    def __init__(self, family: str, key: str = "name", default: str | None = None, data_keys: tuple = (),
                 defaults: dict | None = None):
        """`key`: the spec key holding the name ("type" for layers); `default`: the entry used when a spec
        is null or leaves the name out; `data_keys`: spec keys that are data, not options (layer weights);
        `defaults`: family facts every entry has unless register() says otherwise (a dataset's task)."""
        self.family, self.key, self.default, self.data_keys = family, key, default, tuple(data_keys)
        self.defaults = dict(defaults or {})
        self._entries: dict[str, Any] = {}

    def register(self, name: str, doc: str | None = None, params: list[Param] | None = None,
                 **attrs: Any) -> Callable[[Any], Any]:
        """Decorator for a class or function; `attrs` are family facts (a dataset's kind, task, ...)."""
        def decorator(entry: Any) -> Any:
            if name in self._entries:
                raise ValueError(f"{self.family} {name!r} registered twice")
            for attr, kwarg in (("doc", "doc"), ("options", "params")):  # else silently overwritten below
                if attr in vars(entry):
                    raise TypeError(f"{self.family} {name!r}: pass {kwarg}= to register(), not a {attr} attribute")
            entry.name = name
            entry.doc = doc if doc is not None else (entry.__doc__ or "").strip().split("\n")[0]
            entry.options = list(params or [])
            for key, value in {**self.defaults, **attrs}.items():
                setattr(entry, key, value)
            self._entries[name] = entry
            return entry
        return decorator

    def get(self, name: object, path: str = "") -> Any:
        if not isinstance(name, str) or name not in self._entries:
            raise UnknownNameError(self.family, name, self.names(), path)
        return self._entries[name]

    def parse(self, spec: object, path: str) -> tuple[Any, dict]:
        """"relu" or {"name": "leaky_relu", "alpha": 0.2} -> (entry, the given options, unchecked)."""
        if spec is None and self.default is not None:
            spec = self.default
        if isinstance(spec, dict):
            given = {k: v for k, v in spec.items() if k != self.key}
            return self.get(spec.get(self.key, self.default), f"{path}.{self.key}"), given
        return self.get(spec, path), {}

    def resolve(self, spec: object, path: str, ignore: tuple = ()) -> tuple[Any, dict]:
        """(entry, options with defaults filled); SpecError names `path.option` for every bad one.

        Not options, so not checked here: the registry's `data_keys` and an entry's own `extra_keys`
        (inline's x / y), which the entry reads itself."""
        entry, given = self.parse(spec, path)
        ignore = self.data_keys + tuple(getattr(entry, "extra_keys", ())) + tuple(ignore)
        return entry, resolve_params(entry.options, given, path, ignore=ignore)

    def build(self, spec: object, path: str, *args: Any, **kwargs: Any) -> Any:
        """entry(*args, **options, **kwargs): a class gives an instance, a function its result."""
        entry, options = self.resolve(spec, path)
        return entry(*args, **options, **kwargs)

    def normalize(self, spec: object, path: str) -> dict:
        """{key: name, every option filled}: the form stored in a normalized job spec."""
        entry, options = self.resolve(spec, path)
        return {self.key: entry.name, **options}

    def describe(self, *attrs: str) -> dict:
        """JSON-ready {name: {"doc", "params": [Param...], attr: value...}} for the catalog."""
        return {name: {"doc": e.doc, "params": [p.to_json() for p in e.options],
                       **{a: getattr(e, a) for a in attrs}} for name, e in self._entries.items()}

    def names(self) -> list[str]:
        return list(self._entries)

    def items(self):
        return self._entries.items()

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._entries

    def __iter__(self) -> Iterator[str]:
        """Names, so a Param can take `choices=ACTIVATIONS` (always the current list)."""
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __deepcopy__(self, memo: dict) -> "Registry":
        return self  # one instance per family; Param.to_json (dataclasses.asdict) deep-copies its fields

    def __repr__(self) -> str:
        return f"Registry({self.family!r}, {len(self)} entries)"
