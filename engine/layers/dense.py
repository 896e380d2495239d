"""Fully connected layer: z = x @ W + b, W is (n_in, n_out)."""
from __future__ import annotations

import numpy as np

from ..errors import SpecError
from ..limits import DEFAULT_LIMITS
from .base import WeightedLayer
from .common import LAYERS, weighted_options
from ..parallel import SPLIT
from .rows import WHOLE, add_block_grads, block_grads
from ..params import Param

MAX_UNITS = DEFAULT_LIMITS.max_units
# a product below this many multiply-adds (~0.3 ms) is not split over a job's threads: the split's two thread
# wake-ups (~50 us each on a 2-core VM, engine/parallel.py) cost more than the second core gives (the digit
# model's dense 128, 12.8 M: forward 0.23 -> 0.28 ms, backward 0.42 -> 0.54 ms when split)
SPLIT_MIN_MACS = 16_000_000


@LAYERS.register("dense", doc="fully connected: every input feeds every unit",
                 params=[Param("units", "int", 8, 1, MAX_UNITS, nullable=True,
                                      help="number of neurons; null on the output layer: the dataset's number "
                                           "(classes, vocabulary, target width)")] + weighted_options() + [
                     Param("use_bias", "bool", True, help="add a bias b to every unit (z = x W + b); false: z = x W")])
class Dense(WeightedLayer):

    def compute_output_shape(self, input_shape):
        if self.config["units"] is None:   # engine.normalize fills an output layer's null from the dataset
            raise SpecError("units is null: only a job's output layer may leave it to the dataset")
        if len(input_shape) != 1:
            raise SpecError(f"dense needs a flat input but gets shape {list(input_shape)}; add a flatten layer before it")
        return (self.config["units"],)

    def weight_shapes(self, input_shape):
        n_in, n_out = input_shape[0], self.config["units"]
        return (n_in, n_out), (n_out,), n_in, n_out

    def row_blocks(self, rows: int) -> list[slice]:
        """The row blocks a (rows, n_in) batch is split into over the job's threads (engine/parallel.py)."""
        n_in, units = self.input_shape[0], self.config["units"]
        if rows * n_in * units < SPLIT_MIN_MACS:
            return [slice(0, rows)]
        return SPLIT.parts(rows, rows * n_in * (1 + units // 8))

    def linear_forward(self, x):
        self.blocks = WHOLE
        if SPLIT.threads > 1 and x.ndim == 2:  # (N, T, D) sequences (time_distributed's) are not split
            self.blocks = self.row_blocks(x.shape[0])
            if len(self.blocks) > 1:
                return self.split_forward(x)
        z = x @ self.params["W"]                       # (N, n_in) @ (n_in, n_out) -> (N, n_out)
        if self.has_bias:
            z += self.params["b"]
        return z

    def linear_backward(self, gz):
        if len(self.blocks) > 1:
            return self.split_backward(gz)
        # into the existing arrays: the trainer's flat gradient buffer (engine/flat.py) holds them
        np.matmul(self.x.T, gz, out=self.grads["W"])   # (n_in, N) @ (N, n_out)
        if self.has_bias:   # the ufunc itself: ndarray.sum's Python layer costs ~1 us, a tiny batch's whole sum
            np.add.reduce(gz, axis=0, out=self.grads["b"])
        if not self.needs_input_grad:  # first layer: nobody uses d(loss)/d(input)
            return None
        return gz @ self.params["W"].T                 # (N, n_out) @ (n_out, n_in)

    # the same products on blocks of rows, when a job's batch is split over threads (engine/parallel.py); the
    # activation stays whole-batch (N x units values: small next to the GEMMs)
    def split_forward(self, x):
        w, b = self.params["W"], self.params.get("b")
        z = np.empty((x.shape[0], w.shape[1]), dtype=np.result_type(x, w))

        def block(i, rows):
            np.matmul(x[rows], w, out=z[rows])         # (n_b, n_in) @ (n_in, n_out)
            if b is not None:
                z[rows] += b
        SPLIT.run(block, self.blocks)
        return z

    def split_backward(self, gz):
        w, parts = self.params["W"], block_grads(self, len(self.blocks))
        dx = np.empty((gz.shape[0], w.shape[0]), dtype=gz.dtype) if self.needs_input_grad else None

        def block(i, rows):
            np.matmul(self.x[rows].T, gz[rows], out=parts[i]["W"])   # (n_in, n_b) @ (n_b, n_out)
            if self.has_bias:
                gz[rows].sum(axis=0, out=parts[i]["b"])
            if dx is not None:
                np.matmul(gz[rows], w.T, out=dx[rows])               # (n_b, n_out) @ (n_out, n_in)
        SPLIT.run(block, self.blocks)
        add_block_grads(self.grads, parts)
        return dx

    def describe_size(self):
        return str(self.config["units"])
