"""Layers, looked up by name in LAYERS. Importing a module registers its layers."""
from . import activation, batchnorm, conv, dense, dropout, maxout, pooling, recurrent, shape  # noqa: F401  (registration)
from .base import Layer, WeightedLayer
from .common import LAYERS

__all__ = ["LAYERS", "Layer", "WeightedLayer"]
