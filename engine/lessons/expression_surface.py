"""A custom surface f(x, y) typed by the student, parsed and differentiated by the backprop lesson's
safe parser (engine/lessons/expression.py): nothing is evaluated but the whitelisted operators.

The graph is evaluated on arrays of points at once (the map's grid, or every path's current point), so the
expression must be elementwise in x and y: sum, mean and @ would mix the points together and are refused.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import Problem, SpecError
from ..limits import DEFAULT_LIMITS
from .expression import parse_expression

DEFAULT_DOMAIN = [[-2.0, 2.0], [-2.0, 2.0]]


def _domain(value: object, path: str) -> list:
    ok = (isinstance(value, list) and len(value) == 2 and all(
        isinstance(r, list) and len(r) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                    and math.isfinite(v) and abs(v) <= 1e4 for v in r)
        and r[0] < r[1] for r in value))
    if not ok:
        raise SpecError("must be [[xmin, xmax], [ymin, ymax]] with min < max, |values| <= 10000", path)
    return [[float(a), float(b)] for a, b in value]


class ExpressionSurface:
    """value(x, y) and gradient(x, y) on same-shape arrays (at most max_expression_values elements)."""

    doc = "a custom expression in x and y"
    minimum: list = []

    def __init__(self, text: str, domain: list, path: str):
        self.expression = _at(path, parse_expression, text, ("x", "y"), DEFAULT_LIMITS)
        self.name, self.text, self.domain, self.path = "expression", text, domain, path
        (x0, x1), (y0, y1) = domain
        self.start = [x0 + 0.1 * (x1 - x0), y1 - 0.15 * (y1 - y0)]
        self.chunk = DEFAULT_LIMITS.max_expression_values
        centre = [[(x0 + x1) / 2], [(y0 + y1) / 2]]
        graph = _at(path, self._graph, *centre)
        mixed = sorted({n.op for n in graph.nodes if n.fn is not None and not n.fn.elementwise})
        if mixed:
            raise SpecError(f"a surface must be elementwise in x and y; {', '.join(mixed)} mixes the points "
                            "of the map together", f"{path}.expression")

    def _graph(self, x: np.ndarray, y: np.ndarray):
        # the parser takes (nested) lists of numbers, as JSON would give them
        return self.expression.evaluate({"x": np.ravel(x).tolist(), "y": np.ravel(y).tolist()})

    def _chunks(self, x, y):
        x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
        flat_x, flat_y = x.ravel(), y.ravel()
        for i in range(0, max(flat_x.size, 1), self.chunk):
            yield x.shape, flat_x[i:i + self.chunk], flat_y[i:i + self.chunk]

    def value(self, x, y):
        shape, parts = None, []
        for shape, cx, cy in self._chunks(x, y):
            out = self._graph(cx, cy).output.data
            parts.append(np.broadcast_to(out, cx.shape))
        return np.concatenate(parts).reshape(shape)

    def gradient(self, x, y):
        shape, gx, gy = None, [], []
        for shape, cx, cy in self._chunks(x, y):
            graph = self._graph(cx, cy).backward()     # seeded with ones: per point df/dx, df/dy
            gx.append(np.broadcast_to(graph.variables["x"].grad, cx.shape))
            gy.append(np.broadcast_to(graph.variables["y"].grad, cx.shape))
        return np.concatenate(gx).reshape(shape), np.concatenate(gy).reshape(shape)


def _at(path: str, fn, *args):
    """fn(*args), the parser's problems reported under the surface's field (surface.expression)."""
    try:
        return fn(*args)
    except SpecError as e:
        raise SpecError([Problem(f"{path}.{p.path}" if p.path else path, p.message) for p in e.problems]) from None


def expression_surface(spec: dict, path: str = "surface") -> ExpressionSurface:
    """{"expression": "x**2 + 10*y**2", "domain"?: [[xmin, xmax], [ymin, ymax]]} -> a surface."""
    unknown = sorted(set(spec) - {"expression", "domain"})
    if unknown:
        raise SpecError("unknown option; a custom surface takes expression and domain", f"{path}.{unknown[0]}")
    domain = _domain(spec.get("domain", DEFAULT_DOMAIN), f"{path}.domain")
    return ExpressionSurface(spec["expression"], domain, path)
