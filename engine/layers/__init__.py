"""Layers, looked up by name in LAYERS. Importing a module registers its layers."""
from . import activation, batchnorm, conv, dense, dropout, maxout, pooling, recurrent, shape, upsampling  # noqa: F401,E501
from .base import Layer, WeightedLayer
from .common import LAYERS

__all__ = ["LAYERS", "Layer", "WeightedLayer"]
