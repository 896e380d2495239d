"""The layer interface (CS231n style: forward keeps a cache on the layer, backward uses it)."""
from __future__ import annotations

import numpy as np


class Layer:
    """Base layer.

    `LAYERS.register(type, doc=, params=)` sets the class's `name` (its type) and `options` (the Params
    for the spec keys it accepts besides "type" and "weights").
    After `build`, `params` and `grads` are dicts with the same keys ("W", "b", ...); `state` holds
    non-trainable arrays (batchnorm running statistics). `out` keeps the last forward output so
    histograms and per-neuron maps cost nothing extra.
    """

    def __init__(self, **config):
        self.config = config          # resolved options (defaults filled)
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.state: dict[str, np.ndarray] = {}
        self.out: np.ndarray | None = None
        self.input_shape: tuple | None = None
        self.output_shape: tuple | None = None
        self.needs_input_grad = True   # the model turns this off for layer 0 while training
        self.trainable = True          # False: frozen ("trainable": false); the model sets it

    def build(self, input_shape: tuple, rng: np.random.Generator, dtype: np.dtype) -> tuple:
        """Create parameters for a per-sample `input_shape`; return the per-sample output shape."""
        self.input_shape = tuple(input_shape)
        self.output_shape = self.compute_output_shape(self.input_shape)
        self.dtype = np.dtype(dtype)
        return self.output_shape

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def param_shapes(self, input_shape: tuple) -> dict[str, tuple]:
        """Trainable parameter shapes for `input_shape`, without allocating them (limits are checked first)."""
        return {}

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """Fill self.grads from d(loss)/d(out) = `grad` and return d(loss)/d(input). Never mutates `grad`."""
        raise NotImplementedError

    def n_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def zero_grads(self) -> None:
        for k, p in self.params.items():
            self.grads[k] = np.zeros_like(p)

    def describe(self) -> str:
        """Short human text for summaries, e.g. 'dense 8 tanh'."""
        return self.name


class WeightedLayer(Layer):
    """A layer with a kernel W, a bias b and an optional activation (the `"activation": name` shorthand).

    Subclasses implement `weight_shapes`, `linear_forward(x) -> z` and `linear_backward(gz) -> dx`
    (filling grads["W"], grads["b"]). Keeping z and the activation inside the layer keeps spec
    index i == parameter key prefix i.
    """

    def __init__(self, **config):
        super().__init__(**config)
        # False for a dense layer with use_bias false (z = x @ W, the lectures' bias-free neurons); a plain
        # attribute, read twice per batch
        self.has_bias = config.get("use_bias", True)

    def build(self, input_shape, rng, dtype):
        from ..activations import make_activation
        from ..initializers import initialize
        out_shape = super().build(input_shape, rng, dtype)
        self.activation = make_activation(self.config.get("activation") or "linear", "activation")
        w_shape, b_shape, fan_in, fan_out = self.weight_shapes(self.input_shape)
        self.params["W"] = initialize(self.config["kernel_initializer"], w_shape, rng, fan_in, fan_out,
                                      self.dtype, "kernel_initializer")
        if self.has_bias:
            self.params["b"] = initialize(self.config["bias_initializer"], b_shape, rng, fan_in, fan_out,
                                          self.dtype, "bias_initializer")
        self.zero_grads()
        return out_shape

    def weight_shapes(self, input_shape: tuple) -> tuple[tuple, tuple, int, int]:
        raise NotImplementedError


    def param_shapes(self, input_shape):
        w, b, _, _ = self.weight_shapes(input_shape)
        return {"W": w, "b": b} if self.has_bias else {"W": w}

    def forward(self, x, training=False):
        self.x = x
        self.z = self.linear_forward(x)
        self.out = self.activation.forward(self.z)
        return self.out

    def backward(self, grad):
        return self.linear_backward(self.activation.backward(grad, self.z, self.out))

    def backward_from_preactivation(self, gz):
        """Backward when the loss already gave d(loss)/dz (fused softmax/sigmoid + cross-entropy)."""
        return self.linear_backward(gz)

    def linear_forward(self, x):
        raise NotImplementedError

    def linear_backward(self, gz):
        raise NotImplementedError

    def describe(self):
        # from the config, not the built activation: the summary describes layers it never builds (maxout)
        act = self.config.get("activation") or "linear"
        name = act.get("name", "linear") if isinstance(act, dict) else act
        return f"{self.name} {self.describe_size()}" + ("" if name == "linear" else f" {name}")

    def describe_size(self) -> str:
        return ""
