"""Activation as a layer of its own: {"type": "activation", "activation": "relu"}."""
from __future__ import annotations

import numpy as np

from ..activations import ACTIVATIONS, make_activation
from ..params import Param
from ..parallel import SPLIT
from .base import Layer
from .common import LAYERS


@LAYERS.register("activation",
                 doc="applies an activation function elementwise",
                 params=[Param("activation", "choice", "relu", choices=ACTIVATIONS)])
class ActivationLayer(Layer):
    def build(self, input_shape, rng, dtype):
        self.activation = make_activation(self.config["activation"], "activation")
        return super().build(input_shape, rng, dtype)

    def forward(self, x, training=False):
        self.x = x
        blocks = SPLIT.parts(x.shape[0], 2 * x.size)
        if len(blocks) == 1:
            self.out = self.activation.forward(x)
            return self.out
        out = self.out = np.empty_like(x)     # a split batch: each thread writes its rows

        def block(i, rows):
            out[rows] = self.activation.forward(x[rows])
        SPLIT.run(block, blocks)
        return out

    def backward(self, grad):
        blocks = SPLIT.parts(grad.shape[0], 3 * grad.size)
        if len(blocks) == 1:
            return self.activation.backward(grad, self.x, self.out)
        dx = np.empty_like(grad)

        def block(i, rows):
            dx[rows] = self.activation.backward(grad[rows], self.x[rows], self.out[rows])
        SPLIT.run(block, blocks)
        return dx

    def describe(self):
        return self.activation.name
