"""Weight initializers: fn(shape, rng, fan_in, fan_out, **options) -> float64 array (cast by the layer)."""
from __future__ import annotations

import numpy as np

from .params import Param, resolve_params
from .registry import Registry

INITIALIZERS = Registry("initializer")


def _register(name: str, doc: str, options: list[Param] | None = None):
    def decorator(fn):
        fn.doc, fn.options = doc, options or []
        return INITIALIZERS.register(name)(fn)
    return decorator


@_register("zeros", "all zeros (hidden units then stay identical: symmetry is never broken)")
def zeros(shape, rng, fan_in, fan_out):
    return np.zeros(shape)


@_register("ones", "all ones")
def ones(shape, rng, fan_in, fan_out):
    return np.ones(shape)


@_register("constant", "every weight the same value", [Param("value", "float", 0.0, -100, 100)])
def constant(shape, rng, fan_in, fan_out, value):
    return np.full(shape, value)


@_register("random_normal", "N(mean, stddev^2): the 'small random numbers' recipe",
           [Param("mean", "float", 0.0, -10, 10), Param("stddev", "float", 0.01, 0, 10)])
def random_normal(shape, rng, fan_in, fan_out, mean, stddev):
    return rng.normal(mean, stddev, shape)


@_register("random_uniform", "U(minval, maxval)",
           [Param("minval", "float", -0.05, -10, 10), Param("maxval", "float", 0.05, -10, 10)])
def random_uniform(shape, rng, fan_in, fan_out, minval, maxval):
    return rng.uniform(minval, maxval, shape)


@_register("lecun_normal", "N(0, 1/fan_in)")
def lecun_normal(shape, rng, fan_in, fan_out):
    return rng.normal(0.0, np.sqrt(1.0 / fan_in), shape)


@_register("glorot_normal", "N(0, 2/(fan_in+fan_out)) (Xavier)")
def glorot_normal(shape, rng, fan_in, fan_out):
    return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), shape)


@_register("glorot_uniform", "U(-l, l), l = sqrt(6/(fan_in+fan_out)) (Xavier)")
def glorot_uniform(shape, rng, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape)


@_register("he_normal", "N(0, 2/fan_in), for relu")
def he_normal(shape, rng, fan_in, fan_out):
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)


@_register("he_uniform", "U(-l, l), l = sqrt(6/fan_in), for relu")
def he_uniform(shape, rng, fan_in, fan_out):
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, shape)


def initialize(spec, shape: tuple, rng: np.random.Generator, fan_in: int, fan_out: int, dtype,
               path: str = "kernel_initializer") -> np.ndarray:
    """Draw an array for `spec` (a name or {"name": ..., **options})."""
    if isinstance(spec, dict):
        name, opts, name_path = spec.get("name"), {k: v for k, v in spec.items() if k != "name"}, f"{path}.name"
    else:
        name, opts, name_path = spec, {}, path
    fn = INITIALIZERS.get(name, name_path)
    return fn(shape, rng, fan_in, fan_out, **resolve_params(fn.options, opts, path)).astype(dtype)
