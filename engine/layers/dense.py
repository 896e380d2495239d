"""Fully connected layer: z = x @ W + b, W is (n_in, n_out)."""
from __future__ import annotations

import numpy as np

from ..errors import SpecError
from ..limits import DEFAULT_LIMITS
from .base import WeightedLayer
from .common import LAYERS, weighted_options
from .rows import RowBlocks
from ..params import Param

MAX_UNITS = DEFAULT_LIMITS.max_units


@LAYERS.register("dense", doc="fully connected: every input feeds every unit",
                 params=[Param("units", "int", 8, 1, MAX_UNITS, nullable=True,
                                      help="number of neurons; null on the output layer: the dataset's number "
                                           "(classes, vocabulary, target width)")] + weighted_options() + [
                     Param("use_bias", "bool", True, help="add a bias b to every unit (z = x W + b); false: z = x W")])
class Dense(RowBlocks, WeightedLayer):

    def compute_output_shape(self, input_shape):
        if self.config["units"] is None:   # engine.normalize fills an output layer's null from the dataset
            raise SpecError("units is null: only a job's output layer may leave it to the dataset")
        if len(input_shape) != 1:
            raise SpecError(f"dense needs a flat input but gets shape {list(input_shape)}; add a flatten layer before it")
        return (self.config["units"],)

    def weight_shapes(self, input_shape):
        n_in, n_out = input_shape[0], self.config["units"]
        return (n_in, n_out), (n_out,), n_in, n_out

    def linear_forward(self, x):
        z = x @ self.params["W"]                       # (N, n_in) @ (n_in, n_out) -> (N, n_out)
        if self.has_bias:
            z += self.params["b"]
        return z

    def linear_backward(self, gz):
        # into the existing arrays: the trainer's flat gradient buffer (engine/flat.py) holds them
        np.matmul(self.x.T, gz, out=self.grads["W"])   # (n_in, N) @ (N, n_out)
        if self.has_bias:
            gz.sum(axis=0, out=self.grads["b"])
        if not self.needs_input_grad:  # first layer: nobody uses d(loss)/d(input)
            return None
        return gz @ self.params["W"].T                 # (N, n_out) @ (n_out, n_in)

    # the same arithmetic on one block of rows, when a job's batch is split over threads (engine/layers/rows.py)
    def split_ok(self, x):
        return x.ndim == 2               # a subclass fed (N, T, D) sequences (time_distributed) is not split

    def start_forward(self, x):
        return np.empty((x.shape[0], self.config["units"]), dtype=np.result_type(x, self.params["W"]))

    def forward_rows(self, x, z, rows):
        np.matmul(x[rows], self.params["W"], out=z[rows])   # (n_b, n_in) @ (n_in, n_out) -> (n_b, n_out)
        if self.has_bias:
            z[rows] += self.params["b"]

    def start_backward(self, gz):
        pass

    def backward_rows(self, gz, rows, grads, dx):
        np.matmul(self.x[rows].T, gz, out=grads["W"])   # (n_in, n_b) @ (n_b, n_out)
        if self.has_bias:
            gz.sum(axis=0, out=grads["b"])
        if dx is not None:
            np.matmul(gz, self.params["W"].T, out=dx[rows])   # (n_b, n_out) @ (n_out, n_in)

    def describe_size(self):
        return str(self.config["units"])
