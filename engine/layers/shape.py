"""Flatten: (N, C, H, W) -> (N, C*H*W)."""
from __future__ import annotations

import math

from .base import Layer
from .common import LAYERS


@LAYERS.register("flatten", doc="reshapes images (C, H, W) into a vector for dense layers")
class Flatten(Layer):
    def compute_output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def forward(self, x, training=False):
        self.out = x.reshape(x.shape[0], -1)
        return self.out

    def backward(self, grad):
        return grad.reshape((grad.shape[0],) + self.input_shape)
