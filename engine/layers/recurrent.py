"""Recurrent layers with Keras names and semantics: simple_rnn and lstm, plus time_distributed (a dense
layer applied to every step of a sequence).

Inputs are (N, T, D) sequences. The output is the last hidden state (N, units), or with
`return_sequences` every step's (N, T, units). Parameters follow Keras: `W` is the kernel (D, G*H),
`U` the recurrent kernel (H, G*H), `b` the bias (G*H,), with G = 1 (simple_rnn) or 4 (lstm, gates in
Keras' order i, f, c, o). The input projection of every step is one GEMM before the time loop; each step
then does one (N, H) @ (H, G*H) GEMM for all of its gates. Backpropagation through time loops over the
steps only, and the weight gradients are one GEMM each over all N*T rows after the loop.

Internally arrays are time-major (T, N, ...) so each step's slice is contiguous. Backward keeps the
gradient reaching every hidden state, `dh` (T, N, H) = dL/dh_t (from the output and from step t+1), for
the time_gradients probe.
"""
from __future__ import annotations

import numpy as np

from ..activations import ACTIVATIONS, make_activation
from ..errors import SpecError
from ..initializers import INITIALIZERS, initialize
from ..limits import DEFAULT_LIMITS
from ..params import Param
from .base import Layer
from .common import LAYERS
from .dense import Dense


def recurrent_options(activation: str | None) -> list[Param]:
    opts = [Param("units", "int", 8, 1, DEFAULT_LIMITS.max_units, help="size of the hidden state h_t")]
    if activation:
        opts.append(Param("activation", "choice", activation, choices=ACTIVATIONS,
                          help="applied to x_t W + h_(t-1) U + b"))
    return opts + [
        Param("return_sequences", "bool", False,
              help="output every step's hidden state (N, T, units); false: only the last (N, units)"),
        Param("kernel_initializer", "choice", "glorot_uniform", choices=INITIALIZERS, help="for W (input to gates)"),
        Param("recurrent_initializer", "choice", "orthogonal", choices=INITIALIZERS,
              help="for U (hidden state to gates)"),
        Param("bias_initializer", "choice", "zeros", choices=INITIALIZERS),
    ]


class Recurrent(Layer):
    """Shared shape handling, parameters and the input / weight GEMMs; subclasses run the steps."""
    n_gates = 1

    @property
    def units(self) -> int:
        return self.config["units"]

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise SpecError(f"{self.name} needs sequences of shape [steps, features] but gets shape "
                            f"{list(input_shape)}")
        steps = input_shape[0]
        return (steps, self.units) if self.config["return_sequences"] else (self.units,)

    def param_shapes(self, input_shape):
        g = self.n_gates * self.units
        return {"W": (input_shape[-1], g), "U": (self.units, g), "b": (g,)}

    def build(self, input_shape, rng, dtype):
        out = super().build(input_shape, rng, dtype)
        shapes = self.param_shapes(self.input_shape)
        (d, g), h = shapes["W"], self.units
        self.params["W"] = initialize(self.config["kernel_initializer"], (d, g), rng, d, g, self.dtype,
                                      "kernel_initializer")
        self.params["U"] = initialize(self.config["recurrent_initializer"], (h, g), rng, h, g, self.dtype,
                                      "recurrent_initializer")
        self.params["b"] = initialize(self.config["bias_initializer"], (g,), rng, d, g, self.dtype, "bias_initializer")
        self.init_bias()
        self.zero_grads()
        return out

    def init_bias(self) -> None:
        pass

    def forward(self, x, training=False):
        n, t, d = x.shape
        self.xt = np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(t * n, d)   # (T*N, D), time-major
        zx = self.xt @ self.params["W"]                                         # (T*N, D) @ (D, G*H)
        zx += self.params["b"]
        hs = self.run_steps(zx.reshape(t, n, -1))                              # (T+1, N, H), hs[0] = 0
        self.hs = hs
        out = hs[1:].transpose(1, 0, 2) if self.config["return_sequences"] else hs[-1]
        self.out = np.ascontiguousarray(out)
        return self.out

    def backward(self, grad):
        t, n, h = self.hs.shape[0] - 1, self.hs.shape[1], self.units
        if self.config["return_sequences"]:
            gout = np.ascontiguousarray(grad.transpose(1, 0, 2))                 # (T, N, H)
        else:
            gout = np.zeros((t, n, h), dtype=grad.dtype)
            gout[-1] = grad
        self.dh = np.empty((t, n, h), dtype=self.dtype)                       # dL/dh_t, kept for the probe
        dz = self.backward_steps(gout).reshape(t * n, -1)                      # (T*N, G*H)
        np.matmul(self.xt.T, dz, out=self.grads["W"])                         # (D, T*N) @ (T*N, G*H)
        np.matmul(self.hs[:-1].reshape(t * n, h).T, dz, out=self.grads["U"])  # (H, T*N) @ (T*N, G*H)
        dz.sum(axis=0, out=self.grads["b"])
        if not self.needs_input_grad:
            return None
        dx = dz @ self.params["W"].T                                          # (T*N, G*H) @ (G*H, D)
        return dx.reshape(t, n, -1).transpose(1, 0, 2)

    def time_gradient_norms(self) -> list[float]:
        """||dL/dh_t|| over the batch and the units, t = 1..T, from the last backward."""
        return np.sqrt((self.dh.astype(np.float64) ** 2).sum(axis=(1, 2))).tolist()

    def describe(self):
        act = self.config.get("activation")
        act = act.get("name") if isinstance(act, dict) else act
        seq = " seq" if self.config["return_sequences"] else ""
        return f"{self.name} {self.units}" + (f" {act}" if act and act != "tanh" else "") + seq


@LAYERS.register("simple_rnn", doc="h_t = activation(x_t W + h_(t-1) U + b): the same weights at every step",
                 params=recurrent_options("tanh"))
class SimpleRNN(Recurrent):

    def build(self, input_shape, rng, dtype):
        out = super().build(input_shape, rng, dtype)
        self.activation = make_activation(self.config["activation"], "activation")
        return out

    def run_steps(self, zx):
        t, n, h = zx.shape[0], zx.shape[1], self.units
        hs = np.zeros((t + 1, n, h), dtype=self.dtype)
        self.zs = zx                                       # (T, N, H): pre-activations, filled step by step
        for s in range(t):
            zx[s] += hs[s] @ self.params["U"]              # (N, H) @ (H, H)
            hs[s + 1] = self.activation.forward(zx[s])
        return hs

    def backward_steps(self, gout):
        dz = np.empty_like(self.zs)
        ut = np.ascontiguousarray(self.params["U"].T)
        dh_next = np.zeros_like(gout[0])
        for s in range(gout.shape[0] - 1, -1, -1):
            dh = np.add(gout[s], dh_next, out=self.dh[s])  # from the output and from step s+1
            dz[s] = self.activation.backward(dh, self.zs[s], self.hs[s + 1])
            dh_next = dz[s] @ ut                            # (N, H) @ (H, H)
        return dz


@LAYERS.register("lstm", doc="long short-term memory: input, forget and output gates guard a cell state that "
                             "carries information (and gradients) across many steps",
                 params=recurrent_options(None) + [
                     Param("unit_forget_bias", "bool", True,
                           help="start the forget gate's bias at 1 so the cell remembers from the start (Keras)")])
class LSTM(Recurrent):
    """i = sig(z_i), f = sig(z_f), g = tanh(z_c), o = sig(z_o), c_t = f c_(t-1) + i g, h_t = o tanh(c_t),
    with z = x_t W + h_(t-1) U + b split into Keras' four column blocks i, f, c, o."""
    n_gates = 4

    def init_bias(self):
        if self.config["unit_forget_bias"]:
            self.params["b"][self.units:2 * self.units] = 1

    def run_steps(self, zx):
        t, n, h = zx.shape[0], zx.shape[1], self.units
        # sigmoid(z) = 0.5 tanh(z / 2) + 0.5: one tanh for all four blocks, no overflow. Scale z's sigmoid
        # columns by 1/2 up front (in zx and U), then every step is tanh, * a, + c per block.
        half = np.full(4 * h, 0.5, dtype=self.dtype)
        half[2 * h:3 * h] = 1
        zx *= half
        u = self.params["U"] * half                        # (H, 4H)
        hs = np.zeros((t + 1, n, h), dtype=self.dtype)
        cs = np.zeros((t + 1, n, h), dtype=self.dtype)     # cell states, cs[0] = 0
        tc = np.empty((t, n, h), dtype=self.dtype)         # tanh(c_t)
        gates = np.empty((t, n, 4 * h), dtype=self.dtype)  # activated i, f, g, o
        shift = 1 - half                                   # 0.5 for sigmoid blocks, 0 for g
        for s in range(t):
            a = gates[s]
            np.matmul(hs[s], u, out=a)                     # (N, H) @ (H, 4H): all gates in one GEMM
            a += zx[s]
            np.tanh(a, out=a)
            a *= half
            a += shift
            i, f, g, o = a[:, :h], a[:, h:2 * h], a[:, 2 * h:3 * h], a[:, 3 * h:]
            np.multiply(f, cs[s], out=cs[s + 1])
            cs[s + 1] += i * g
            np.tanh(cs[s + 1], out=tc[s])
            np.multiply(o, tc[s], out=hs[s + 1])
        self.cs, self.tc, self.gates = cs, tc, gates
        return hs

    def backward_steps(self, gout):
        t, n, h = gout.shape[0], gout.shape[1], self.units
        gates, tc = self.gates, self.tc
        i, f, g, o = (gates[..., k * h:(k + 1) * h] for k in range(4))
        # every factor that does not depend on the incoming gradient, for all steps at once:
        # dz_i = dc g i(1-i), dz_f = dc c_(t-1) f(1-f), dz_g = dc i (1-g^2), dz_o = dh tanh(c) o(1-o)
        k3 = np.empty((t, n, 3, h), dtype=self.dtype)
        np.multiply(g, i * (1 - i), out=k3[:, :, 0])
        np.multiply(self.cs[:-1], f * (1 - f), out=k3[:, :, 1])
        np.multiply(i, 1 - g * g, out=k3[:, :, 2])
        ko = tc * o * (1 - o)                              # (T, N, H)
        dc_from_h = o * (1 - tc * tc)                      # dc_t / dh_t
        dz = np.empty((t, n, 4, h), dtype=self.dtype)
        ut = np.ascontiguousarray(self.params["U"].T)      # (4H, H)
        dh_next, dc_next = np.zeros((n, h), self.dtype), np.zeros((n, h), self.dtype)
        for s in range(t - 1, -1, -1):
            dh = np.add(gout[s], dh_next, out=self.dh[s])
            dc = dh * dc_from_h[s]
            dc += dc_next
            np.multiply(dc[:, None, :], k3[s], out=dz[s, :, :3])
            np.multiply(dh, ko[s], out=dz[s, :, 3])
            dc_next = dc * f[s]
            dh_next = dz[s].reshape(n, 4 * h) @ ut         # (N, 4H) @ (4H, H)
        return dz.reshape(t, n, 4 * h)


@LAYERS.register("time_distributed", doc="a dense layer applied to every step of a sequence: (N, T, D) -> "
                                         "(N, T, units), Keras' TimeDistributed(Dense(units))",
                 params=list(LAYERS.get("dense").options))
class TimeDistributedDense(Dense):

    def compute_output_shape(self, input_shape):
        if self.config["units"] is None:
            raise SpecError("units is null: only a job's output layer may leave it to the dataset")
        if len(input_shape) != 2:
            raise SpecError(f"time_distributed needs sequences of shape [steps, features] but gets shape "
                            f"{list(input_shape)}; use dense for flat inputs")
        return (input_shape[0], self.config["units"])

    def weight_shapes(self, input_shape):
        n_in, n_out = input_shape[-1], self.config["units"]
        return (n_in, n_out), (n_out,), n_in, n_out

    def linear_forward(self, x):
        n, t, d = x.shape
        self.x = x.reshape(n * t, d)                         # every step is a row: one GEMM
        return super().linear_forward(self.x).reshape(n, t, -1)

    def linear_backward(self, gz):
        n, t, k = gz.shape
        dx = super().linear_backward(np.ascontiguousarray(gz).reshape(n * t, k))
        return None if dx is None else dx.reshape(n, t, -1)
