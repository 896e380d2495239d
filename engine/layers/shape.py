"""Flatten: (N, C, H, W) -> (N, C*H*W); reshape: (N, D) -> (N, *target_shape), a conv decoder's start."""
from __future__ import annotations

import math

from ..errors import SpecError
from ..params import Param
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


@LAYERS.register("reshape", doc="reshapes each sample to target_shape (same number of values): a dense code "
                                "back into images (channels, height, width) for a conv decoder",
                 params=[Param("target_shape", "int_list", [1, 28, 28], 1, 1 << 20,
                               help="the per-sample shape, e.g. [16, 7, 7]")])
class Reshape(Layer):
    def compute_output_shape(self, input_shape):
        target = tuple(self.config["target_shape"])
        if math.prod(target) != math.prod(input_shape):
            raise SpecError(f"reshape to {list(target)} needs {math.prod(target)} values per sample but gets "
                            f"{math.prod(input_shape)} (shape {list(input_shape)})")
        return target

    def forward(self, x, training=False):
        self.out = x.reshape((x.shape[0],) + self.output_shape)
        return self.out

    def backward(self, grad):
        return grad.reshape((grad.shape[0],) + self.input_shape)

    def describe(self):
        return f"reshape {'x'.join(map(str, self.output_shape or self.config['target_shape']))}"
