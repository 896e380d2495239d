"""Activation as a layer of its own: {"type": "activation", "activation": "relu"}."""
from __future__ import annotations

from ..activations import ACTIVATIONS, make_activation
from ..params import Param
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
        self.out = self.activation.forward(x)
        return self.out

    def backward(self, grad):
        return self.activation.backward(grad, self.x, self.out)

    def describe(self):
        return self.activation.name
