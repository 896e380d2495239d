"""Inverted dropout: zero a fraction `rate` of activations while training and scale the rest by 1/(1-rate)."""
from __future__ import annotations

import numpy as np

from ..params import Param
from .base import Layer
from .common import LAYERS


@LAYERS.register("dropout",
                 doc="randomly zeroes a fraction of activations while training "
                     "(inverted: no rescaling at test time)",
                 params=[Param("rate", "float", 0.5, 0, 0.95, help="fraction of units dropped")])
class Dropout(Layer):
    def build(self, input_shape, rng, dtype):
        self.rng = rng  # the model's generator: same seed, same masks
        return super().build(input_shape, rng, dtype)

    def forward(self, x, training=False):
        rate = self.config["rate"]
        if not training or rate == 0:
            self.mask = None
            self.out = x
            return x
        keep = 1.0 - rate
        self.mask = (self.rng.random(x.shape, dtype=np.float32) < keep).astype(x.dtype) / x.dtype.type(keep)
        self.out = x * self.mask
        return self.out

    def backward(self, grad):
        return grad if self.mask is None else grad * self.mask

    def describe(self):
        return f"dropout {self.config['rate']:g}"
