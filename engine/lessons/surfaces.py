"""2-D loss surfaces for the optimizers lesson: f(x, y) and its gradient, vectorised over arrays.

Each entry is a class with `value(x, y) -> z` and `gradient(x, y) -> (dz/dx, dz/dy)` (static methods on arrays
of any one shape) and facts: `domain` [[xmin, xmax], [ymin, ymax]] (what the map shows), `minimum` (the known
minimisers, [[x, y], ...]; empty when the surface has none), `start` (a start that shows the surface's point).
"""
from __future__ import annotations

import numpy as np

from ..registry import Registry

# learning_rates: the range the momentum phase diagram scans by default (where this surface's steps are sane)
SURFACES = Registry("surface", defaults={"minimum": [], "learning_rates": [0.01, 1.0]})


@SURFACES.register("bowl", doc="round bowl x² + y²: every optimizer heads straight down",
                   domain=[[-2.0, 2.0], [-2.0, 2.0]], minimum=[[0.0, 0.0]], start=[-1.6, 1.4],
                   learning_rates=[0.01, 2.0])
class Bowl:
    @staticmethod
    def value(x, y):
        return x * x + y * y

    @staticmethod
    def gradient(x, y):
        return 2 * x, 2 * y


@SURFACES.register("ravine", doc="elongated ravine 0.05 x² + 2 y²: steep across, shallow horizontally",
                   domain=[[-4.0, 4.0], [-4.0, 4.0]], minimum=[[0.0, 0.0]], start=[-3.5, 1.5])
class Ravine:
    @staticmethod
    def value(x, y):
        return 0.05 * x * x + 2 * y * y

    @staticmethod
    def gradient(x, y):
        return 0.1 * x, 4 * y


@SURFACES.register("rosenbrock", doc="Rosenbrock's banana (1 − x)² + 100 (y − x²)²: a curved, flat valley",
                   domain=[[-2.0, 2.0], [-1.0, 3.0]], minimum=[[1.0, 1.0]], start=[-1.2, 1.0],
                   learning_rates=[1e-4, 4e-3])
class Rosenbrock:
    @staticmethod
    def value(x, y):
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2

    @staticmethod
    def gradient(x, y):
        r = y - x * x
        return -2 * (1 - x) - 400 * x * r, 200 * r


def _beale_terms(x, y):
    # the three residuals c_k - x + x y^k, k = 1, 2, 3, and their y-derivatives' factor k y^(k-1)
    return [(c - x + x * y ** k, -1 + y ** k, k * x * y ** (k - 1)) for k, c in ((1, 1.5), (2, 2.25), (3, 2.625))]


@SURFACES.register("beale", doc="Beale's function: flat plateaus and sharp ridges around a valley",
                   domain=[[-4.5, 4.5], [-4.5, 4.5]], minimum=[[3.0, 0.5]], start=[-2.0, 2.0],
                   learning_rates=[1e-4, 0.03])
class Beale:
    @staticmethod
    def value(x, y):
        return sum(r * r for r, _, _ in _beale_terms(x, y))

    @staticmethod
    def gradient(x, y):
        terms = _beale_terms(x, y)
        return sum(2 * r * dx for r, dx, _ in terms), sum(2 * r * dy for r, _, dy in terms)


@SURFACES.register("saddle", doc="saddle x² − y²: flat at the centre, falling away along y (no minimum)",
                   domain=[[-2.0, 2.0], [-2.0, 2.0]], start=[-1.8, 0.01])
class Saddle:
    @staticmethod
    def value(x, y):
        return x * x - y * y

    @staticmethod
    def gradient(x, y):
        return 2 * x, -2 * y


@SURFACES.register("himmelblau", doc="Himmelblau's function: four minima, where you end depends on the start",
                   domain=[[-5.0, 5.0], [-5.0, 5.0]],
                   minimum=[[3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848126]],
                   start=[0.0, -0.5], learning_rates=[1e-4, 0.03])
class Himmelblau:
    @staticmethod
    def value(x, y):
        return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2

    @staticmethod
    def gradient(x, y):
        a, b = x * x + y - 11, x + y * y - 7
        return 4 * x * a + 2 * b, 2 * a + 4 * y * b


@SURFACES.register("plane", doc="tilted plane 0.8 x + 0.6 y: a constant gradient of length 1 (momentum's terminal velocity)",
                   domain=[[-2.0, 2.0], [-2.0, 2.0]], start=[1.6, 1.2])
class Plane:
    @staticmethod
    def value(x, y):
        return 0.8 * x + 0.6 * y

    @staticmethod
    def gradient(x, y):
        return 0.8 + 0 * x, 0.6 + 0 * y            # same shape as x, y (floats stay floats)


def grid(surface, resolution: int) -> dict:
    """{"x": [R], "y": [R], "z": [[R] * R]}: cell centres over the domain; z[j][i] = f(x[i], y[j]), row 0 = ymin."""
    (x0, x1), (y0, y1) = surface.domain
    xs = x0 + (np.arange(resolution) + 0.5) * (x1 - x0) / resolution    # (R,)
    ys = y0 + (np.arange(resolution) + 0.5) * (y1 - y0) / resolution    # (R,)
    z = surface.value(xs[None, :], ys[:, None])                          # (R, R), rows follow y
    return {"x": xs.tolist(), "y": ys.tolist(), "z": np.round(z, 6).tolist()}
