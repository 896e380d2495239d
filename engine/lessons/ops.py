"""The backprop lesson's operators (micrograd's shape over float64 NumPy arrays), one registry: OPS.

Elementwise ops give `local(out, *inputs)`, d(out)/d(input) per element; the others give `backward`.
"""
from __future__ import annotations

import numpy as np

from ..registry import Registry

OPS = Registry("operator")  # every operator and function an expression may use, by name


def _unbroadcast(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum a broadcast gradient back to an input's shape: (N, M) -> (M,) or () as NumPy broadcast it."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


class Op:
    """An operator. Elementwise ops give `local(out, *inputs)`: d(out)/d(input) per element, one per input;
    `backward(g, out, *inputs)` then multiplies by the upstream gradient g and sums any broadcast away."""
    arity = 1
    elementwise = True
    rule = ""  # the chain rule as the lectures write it, shown by the page

    def __init__(self, power: float | None = None):
        self.power = power

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def local(self, out: np.ndarray, *xs: np.ndarray) -> tuple:
        raise NotImplementedError

    def backward(self, g: np.ndarray, out: np.ndarray, *xs: np.ndarray) -> tuple:
        return tuple(_unbroadcast(g * d, x.shape) for d, x in zip(self.local(out, *xs), xs))

    def out_shape(self, *xs: np.ndarray) -> tuple:
        return np.broadcast_shapes(*(x.shape for x in xs))


@OPS.register("add", doc="a + b", symbol="+", arity=2, rule="∂(a+b)/∂a = 1, ∂/∂b = 1: passes the gradient on")
class Add(Op):
    def forward(self, a, b): return a + b
    def local(self, out, a, b): return np.ones_like(out), np.ones_like(out)


@OPS.register("sub", doc="a - b", symbol="−", arity=2, rule="∂(a−b)/∂a = 1, ∂/∂b = −1")
class Sub(Op):
    def forward(self, a, b): return a - b
    def local(self, out, a, b): return np.ones_like(out), -np.ones_like(out)


@OPS.register("mul", doc="a * b", symbol="×", arity=2, rule="∂(a·b)/∂a = b, ∂/∂b = a: swaps the inputs")
class Mul(Op):
    def forward(self, a, b): return a * b
    def local(self, out, a, b): return b + 0 * out, a + 0 * out


@OPS.register("div", doc="a / b", symbol="÷", arity=2, rule="∂(a/b)/∂a = 1/b, ∂/∂b = −a/b²")
class Div(Op):
    def forward(self, a, b): return a / b
    def local(self, out, a, b): return 1 / b + 0 * out, -a / b ** 2 + 0 * out


@OPS.register("pow", doc="a ** p, p a number", symbol="**", rule="∂(aᵖ)/∂a = p·aᵖ⁻¹")
class Pow(Op):
    def forward(self, a): return a ** self.power
    def local(self, out, a): return (self.power * a ** (self.power - 1),)


@OPS.register("neg", doc="-a", symbol="−", rule="∂(−a)/∂a = −1")
class Neg(Op):
    def forward(self, a): return -a
    def local(self, out, a): return (-np.ones_like(a),)


@OPS.register("exp", doc="e ** a", rule="∂exp(a)/∂a = exp(a)")
class Exp(Op):
    def forward(self, a): return np.exp(a)
    def local(self, out, a): return (out,)


@OPS.register("log", doc="natural logarithm", rule="∂log(a)/∂a = 1/a")
class Log(Op):
    def forward(self, a): return np.log(a)
    def local(self, out, a): return (1 / a,)


@OPS.register("sqrt", doc="square root", rule="∂√a/∂a = 1/(2√a)")
class Sqrt(Op):
    def forward(self, a): return np.sqrt(a)
    def local(self, out, a): return (0.5 / out,)


@OPS.register("abs", doc="absolute value", rule="∂|a|/∂a = sign(a)")
class Abs(Op):
    def forward(self, a): return np.abs(a)
    def local(self, out, a): return (np.sign(a),)


@OPS.register("sigmoid", doc="1 / (1 + exp(-a))", rule="∂σ(a)/∂a = σ(a)·(1 − σ(a))")
class Sigmoid(Op):
    def forward(self, a): return 0.5 * (1 + np.tanh(0.5 * a))   # = 1 / (1 + exp(-a)) without overflow
    def local(self, out, a): return (out * (1 - out),)


@OPS.register("tanh", doc="hyperbolic tangent", rule="∂tanh(a)/∂a = 1 − tanh²(a)")
class Tanh(Op):
    def forward(self, a): return np.tanh(a)
    def local(self, out, a): return (1 - out ** 2,)


@OPS.register("relu", doc="max(0, a)", rule="∂relu(a)/∂a = 1 if a > 0 else 0")
class Relu(Op):
    def forward(self, a): return np.maximum(a, 0)
    def local(self, out, a): return ((a > 0).astype(np.float64),)


@OPS.register("max", doc="the larger of a and b, elementwise", arity=2,
              rule="routes the gradient to the larger input (a on a tie), 0 to the other")
class Max(Op):
    def forward(self, a, b): return np.maximum(a, b)
    def local(self, out, a, b): return (a >= b) + 0 * out, (a < b) + 0 * out


@OPS.register("matmul", doc="a @ b (vectors and matrices)", symbol="@", arity=2,
              rule="∂(a@b)/∂a = g @ bᵀ, ∂/∂b = aᵀ @ g")
class MatMul(Op):
    elementwise = False

    def forward(self, a, b): return a @ b

    def out_shape(self, a, b):
        # (n, m) @ (m, k) -> (n, k); a vector side drops its axis: (m,) @ (m, k) -> (k,), (m,) @ (m,) -> ()
        if a.ndim == 0 or b.ndim == 0 or a.shape[-1] != b.shape[0]:
            raise ValueError("@ needs vectors or matrices whose inner sizes match")
        return a.shape[:-1] + b.shape[1:]

    def backward(self, g, out, a, b):
        a2 = a[None, :] if a.ndim == 1 else a          # (n, m)
        b2 = b[:, None] if b.ndim == 1 else b          # (m, k)
        g2 = np.reshape(g, (a2.shape[0], b2.shape[1]))  # (n, k)
        return (g2 @ b2.T).reshape(a.shape), (a2.T @ g2).reshape(b.shape)


@OPS.register("sum", doc="sum of every element", rule="∂Σa/∂aᵢ = 1: every element gets the gradient")
class Sum(Op):
    elementwise = False
    def forward(self, a): return np.sum(a)
    def out_shape(self, a): return ()
    def backward(self, g, out, a): return (np.full(a.shape, float(g)),)


@OPS.register("mean", doc="mean of every element", rule="∂mean(a)/∂aᵢ = 1/n")
class Mean(Op):
    elementwise = False
    def forward(self, a): return np.mean(a)
    def out_shape(self, a): return ()
    def backward(self, g, out, a): return (np.full(a.shape, float(g) / max(a.size, 1)),)


FUNCTIONS = ("exp", "log", "sqrt", "abs", "sigmoid", "tanh", "relu", "max", "sum", "mean")  # callable by name
