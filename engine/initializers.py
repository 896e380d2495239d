"""Weight initializers: fn(shape, rng, fan_in, fan_out, **options) -> float64 array (cast by the layer)."""
from __future__ import annotations

import numpy as np

from .params import Param
from .registry import Registry

INITIALIZERS = Registry("initializer")


@INITIALIZERS.register("zeros", doc="all zeros (hidden units then stay identical: symmetry is never broken)")
def zeros(shape, rng, fan_in, fan_out):
    return np.zeros(shape)


@INITIALIZERS.register("ones", doc="all ones")
def ones(shape, rng, fan_in, fan_out):
    return np.ones(shape)


@INITIALIZERS.register("constant", doc="every weight the same value",
                       params=[Param("value", "float", 0.0, -100, 100)])
def constant(shape, rng, fan_in, fan_out, value):
    return np.full(shape, value)


@INITIALIZERS.register("random_normal", doc="N(mean, stddev^2): the 'small random numbers' recipe",
                       params=[Param("mean", "float", 0.0, -10, 10), Param("stddev", "float", 0.01, 0, 10)])
def random_normal(shape, rng, fan_in, fan_out, mean, stddev):
    return rng.normal(mean, stddev, shape)


@INITIALIZERS.register("random_uniform", doc="U(minval, maxval)",
                       params=[Param("minval", "float", -0.05, -10, 10), Param("maxval", "float", 0.05, -10, 10)])
def random_uniform(shape, rng, fan_in, fan_out, minval, maxval):
    return rng.uniform(minval, maxval, shape)


@INITIALIZERS.register("lecun_normal", doc="N(0, 1/fan_in)")
def lecun_normal(shape, rng, fan_in, fan_out):
    return rng.normal(0.0, np.sqrt(1.0 / fan_in), shape)


@INITIALIZERS.register("glorot_normal", doc="N(0, 2/(fan_in+fan_out)) (Xavier)")
def glorot_normal(shape, rng, fan_in, fan_out):
    return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), shape)


@INITIALIZERS.register("glorot_uniform", doc="U(-l, l), l = sqrt(6/(fan_in+fan_out)) (Xavier)")
def glorot_uniform(shape, rng, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape)


@INITIALIZERS.register("he_normal", doc="N(0, 2/fan_in), for relu")
def he_normal(shape, rng, fan_in, fan_out):
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)


@INITIALIZERS.register("he_uniform", doc="U(-l, l), l = sqrt(6/fan_in), for relu")
def he_uniform(shape, rng, fan_in, fan_out):
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, shape)


@INITIALIZERS.register("orthogonal", doc="a random (semi-)orthogonal matrix times gain (Keras' recurrent "
                                           "default: repeated products neither grow nor shrink)",
                       params=[Param("gain", "float", 1.0, 0, 10)])
def orthogonal(shape, rng, fan_in, fan_out, gain):
    # Keras: flatten to (prod(shape[:-1]), shape[-1]), QR of a Gaussian, signs fixed by diag(R)
    rows, cols = int(np.prod(shape[:-1])) if len(shape) > 1 else 1, shape[-1]
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))
    q = q if rows >= cols else q.T                                   # (rows, cols), orthonormal columns or rows
    return gain * np.ascontiguousarray(q).reshape(shape)


def initialize(spec, shape: tuple, rng: np.random.Generator, fan_in: int, fan_out: int, dtype,
               path: str = "kernel_initializer") -> np.ndarray:
    """Draw an array for `spec` (a name or {"name": ..., **options})."""
    return INITIALIZERS.build(spec, path, shape, rng, fan_in, fan_out).astype(dtype)
