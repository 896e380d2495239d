"""Batch normalization (Keras semantics): per feature on (N, D), per channel on (N, C, H, W).

Training normalises with the batch mean and (biased) variance and moves the running statistics:
running = momentum * running + (1 - momentum) * batch. Inference uses the running statistics. A frozen layer
(`"trainable": false`) runs in inference mode while the network trains, as Keras's does: it normalises with
its running statistics and never moves them, so they end bit-identical (fine-tuning keeps what it learned).
"""
from __future__ import annotations

import numpy as np

from ..errors import SpecError
from ..params import Param
from .base import Layer
from .common import LAYERS


@LAYERS.register("batchnorm",
                 doc="normalises each feature/channel to zero mean and unit variance, "
                     "then scales (gamma) and shifts (beta)",
                 params=[
                     Param("momentum", "float", 0.99, 0, 1,
                           help="how slowly the running mean/variance follow the batches"),
                     Param("epsilon", "float", 1e-3, 0, 1, min_exclusive=True,
                           help="added to the variance before the sqrt"),
                 ])
class BatchNorm(Layer):
    def compute_output_shape(self, input_shape):
        if len(input_shape) not in (1, 3):
            raise SpecError(f"batchnorm needs features (D,) or images (C, H, W) but gets shape {list(input_shape)}")
        return input_shape

    def param_shapes(self, input_shape):
        return {"gamma": (input_shape[0],), "beta": (input_shape[0],)}

    def build(self, input_shape, rng, dtype):
        out_shape = super().build(input_shape, rng, dtype)
        n = self.input_shape[0]
        self.axes = (0,) if len(self.input_shape) == 1 else (0, 2, 3)
        self.bshape = (1, n) if len(self.input_shape) == 1 else (1, n, 1, 1)  # broadcasts (n,) over the batch
        self.params = {"gamma": np.ones(n, self.dtype), "beta": np.zeros(n, self.dtype)}
        self.state = {"running_mean": np.zeros(n, self.dtype), "running_var": np.ones(n, self.dtype)}
        self.zero_grads()
        return out_shape

    def forward(self, x, training=False):
        eps = self.config["epsilon"]
        training = training and self.trainable      # frozen: the statistics are constants, as at inference
        if training:
            mean, var = x.mean(axis=self.axes), x.var(axis=self.axes)  # (n,) each, biased variance
            m = self.config["momentum"]
            # update in place so a model holding these arrays sees the new values
            self.state["running_mean"][...] = m * self.state["running_mean"] + (1 - m) * mean
            self.state["running_var"][...] = m * self.state["running_var"] + (1 - m) * var
        else:
            mean, var = self.state["running_mean"], self.state["running_var"]
        self.inv_std = (1.0 / np.sqrt(var + eps)).astype(x.dtype).reshape(self.bshape)
        self.xhat = (x - mean.reshape(self.bshape)) * self.inv_std
        self.training = training
        self.out = self.xhat * self.params["gamma"].reshape(self.bshape) + self.params["beta"].reshape(self.bshape)
        return self.out

    def backward(self, grad):
        self.grads["gamma"] = (grad * self.xhat).sum(axis=self.axes)
        self.grads["beta"] = grad.sum(axis=self.axes)
        dxhat = grad * self.params["gamma"].reshape(self.bshape)
        if not self.training:  # running statistics are constants
            return dxhat * self.inv_std
        m = grad.size // self.params["gamma"].size  # values per feature/channel
        # dx = inv_std / m * (m * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))
        sum_d = dxhat.sum(axis=self.axes).reshape(self.bshape)
        sum_dx = (dxhat * self.xhat).sum(axis=self.axes).reshape(self.bshape)
        return (self.inv_std / m) * (m * dxhat - sum_d - self.xhat * sum_dx)

    def describe(self):
        return "batchnorm"
