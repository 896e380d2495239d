"""A run's readable name from its spec: "spiral · 8-8 tanh · adam 0.03".

The one home of that name: the server puts it in every JobPublic (unless the run was renamed) and the pages
show what the server says. Sizes come from the layers' `units` (dense, maxout) or `filters` (conv); the
output layer is left out (its size follows the data).
"""
from __future__ import annotations

SEPARATOR = " · "


def _activation(layer: dict) -> str | None:
    act = layer.get("activation")
    return act.get("name") if isinstance(act, dict) else act


def _hidden(layers: list[dict]) -> str:
    """'8-8 tanh', 'conv 16-32 relu · 128 relu', or 'no hidden layer'."""
    groups: list[tuple[str, list[str], set]] = []   # (kind, sizes, activations) of consecutive sized layers
    for layer in layers[:-1]:
        size = layer.get("units", layer.get("filters"))
        if size is None:
            continue   # flatten, pooling, dropout, batchnorm: no size of their own
        kind = "conv " if "filters" in layer else ""
        if not groups or groups[-1][0] != kind:
            groups.append((kind, [], set()))
        groups[-1][1].append(str(size))
        groups[-1][2].add(_activation(layer) or "linear")
    if not groups:
        return "no hidden layer"
    parts = []
    for kind, sizes, acts in groups:
        act = next(iter(acts)) if len(acts) == 1 else "mixed"
        parts.append(f"{kind}{'-'.join(sizes)} {act}")
    return SEPARATOR.join(parts)


def run_name(spec: dict) -> str:
    """The name of a (normalized) job spec: dataset, hidden layers with their activation, optimizer and rate."""
    dataset = (spec.get("dataset") or {}).get("name", "?")
    layers = (spec.get("model") or {}).get("layers") or []
    optimizer = (spec.get("training") or {}).get("optimizer") or {}
    name = optimizer.get("name", "?") if isinstance(optimizer, dict) else str(optimizer)
    rate = optimizer.get("learning_rate") if isinstance(optimizer, dict) else None
    training = f"{name} {rate:g}" if isinstance(rate, (int, float)) else name
    return SEPARATOR.join([dataset, _hidden(layers), training])
