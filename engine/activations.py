"""Activation functions: forward(x) -> y and backward(grad, x, y) -> dL/dx, elementwise except softmax."""
from __future__ import annotations

import numpy as np

from .params import Param
from .registry import Registry

ACTIVATIONS = Registry("activation")


class Activation:
    zero_gradient = False  # true for step: the UI warns, training runs but nothing learns

    def __init__(self, **config):
        self.config = config

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError


@ACTIVATIONS.register("linear", doc="identity: f(x) = x")
class Linear(Activation):
    def forward(self, x):
        return x

    def backward(self, grad, x, y):
        return grad


@ACTIVATIONS.register("step",
                      doc="binary step: 1 if x > 0 else 0; its gradient is zero everywhere, "
                          "so nothing before it learns")
class Step(Activation):
    zero_gradient = True

    def forward(self, x):
        return (x > 0).astype(x.dtype)

    def backward(self, grad, x, y):
        return np.zeros_like(grad)


@ACTIVATIONS.register("sigmoid", doc="logistic: 1 / (1 + exp(-x))")
class Sigmoid(Activation):
    def forward(self, x):
        # stable for large |x|: exp only of non-positive numbers
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)

    def backward(self, grad, x, y):
        return grad * y * (1 - y)


@ACTIVATIONS.register("tanh", doc="hyperbolic tangent")
class Tanh(Activation):
    def forward(self, x):
        return np.tanh(x)

    def backward(self, grad, x, y):
        d = y * y                      # grad * (1 - y^2), into one new array (a tiny network calls this per layer)
        np.subtract(1, d, out=d)
        d *= grad
        return d


@ACTIVATIONS.register("relu", doc="rectified linear: max(0, x)")
class ReLU(Activation):
    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, grad, x, y):
        return grad * (x > 0)


@ACTIVATIONS.register("leaky_relu",
                      doc="max(alpha * x, x)",
                      params=[Param("alpha", "float", 0.1, 0, 1, help="slope for x < 0")])
class LeakyReLU(Activation):
    def forward(self, x):
        return np.where(x > 0, x, x * x.dtype.type(self.config["alpha"]))

    def backward(self, grad, x, y):
        return grad * np.where(x > 0, 1, self.config["alpha"]).astype(grad.dtype)


@ACTIVATIONS.register("elu",
                      doc="x if x > 0 else alpha * (exp(x) - 1)",
                      params=[Param("alpha", "float", 1.0, 0, 10,
                                    help="value approached for large negative x is -alpha")])
class ELU(Activation):
    def forward(self, x):
        a = x.dtype.type(self.config["alpha"])
        return np.where(x > 0, x, a * np.expm1(np.minimum(x, 0)))

    def backward(self, grad, x, y):
        a = self.config["alpha"]
        return grad * np.where(x > 0, 1, y + a).astype(grad.dtype)


@ACTIVATIONS.register("softplus", doc="log(1 + exp(x)), a smooth relu")
class Softplus(Activation):
    def forward(self, x):
        return np.logaddexp(0, x).astype(x.dtype, copy=False)

    def backward(self, grad, x, y):
        return grad * Sigmoid().forward(x)


@ACTIVATIONS.register("softmax",
                      doc="exp(x_i) / sum_j exp(x_j) over the last axis; turns scores into class probabilities")
class Softmax(Activation):
    def forward(self, x):
        z = x - x.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    def backward(self, grad, x, y):
        # jacobian-vector product: y * (g - <g, y>)
        return y * (grad - (grad * y).sum(axis=-1, keepdims=True))


def make_activation(spec, path: str = "activation") -> Activation:
    """Build from a name or {"name": ..., **options}."""
    return ACTIVATIONS.build(spec, path)
