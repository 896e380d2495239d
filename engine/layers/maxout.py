"""Maxout (Goodfellow et al. 2013): each unit is the max of `pieces` linear pieces; no activation.

z = x @ W + b with W (n_in, units*pieces); column u*pieces + k is piece k of unit u.
Fans for the initializer: fan_in = n_in, fan_out = units*pieces (the kernel's own shape).
"""
from __future__ import annotations

import numpy as np

from ..errors import SpecError
from ..params import Param
from .base import WeightedLayer
from .common import LAYERS, weighted_options
from .dense import MAX_UNITS


# weighted_options without "activation": the max is the nonlinearity
@LAYERS.register("maxout",
                 doc="each unit outputs the max of several linear pieces: a learned piecewise-linear activation",
                 params=[
                     Param("units", "int", 8, 1, MAX_UNITS, help="number of output units"),
                     Param("pieces", "int", 2, 2, 16, help="linear pieces per unit"),
                 ] + [p for p in weighted_options() if p.name != "activation"])
class Maxout(WeightedLayer):
    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise SpecError(f"maxout needs a flat input but gets shape {list(input_shape)}; add a flatten layer before it")
        return (self.config["units"],)

    def weight_shapes(self, input_shape):
        n_in, width = input_shape[0], self.config["units"] * self.config["pieces"]
        return (n_in, width), (width,), n_in, width

    def linear_forward(self, x):
        z = x @ self.params["W"] + self.params["b"]                  # (N, n_in) @ (n_in, U*P) -> (N, U*P)
        z = z.reshape(x.shape[0], self.config["units"], self.config["pieces"])  # (N, U, P)
        self.argmax = z.argmax(axis=-1)                               # (N, U); ties -> first piece
        return np.take_along_axis(z, self.argmax[..., None], axis=-1)[..., 0]

    def linear_backward(self, gz):
        onehot = self.argmax[..., None] == np.arange(self.config["pieces"])  # (N, U, P)
        gpieces = (onehot * gz[..., None]).reshape(gz.shape[0], -1)           # (N, U*P)
        self.grads["W"] = self.x.T @ gpieces
        self.grads["b"] = gpieces.sum(axis=0)
        return gpieces @ self.params["W"].T                                   # (N, U*P) @ (U*P, n_in)

    def describe_size(self):
        return f"{self.config['units']}x{self.config['pieces']}"
