"""One contiguous buffer for all of a model's parameters and one for their gradients.

A tiny network's training step is dominated by Python overhead per array (an Adam update over six
small arrays is ~50 NumPy calls), so the trainer packs every parameter into one flat vector, kernels
first, and hands the layers views into it: the optimizer then updates one array, and the L1/L2 penalty
and its gradient are one slice (`kernels`). `Model.params` / the layers' `params` and `grads` stay
dicts of views with the usual "{i}.W" keys, so probes, checkpoints and max-norm see nothing new.
"""
from __future__ import annotations

import math

import numpy as np

from .regularization import is_kernel

FLAT_KEY = "flat"   # the one key the optimizer sees


class FlatParams:
    def __init__(self, model):
        keys = sorted(model.params, key=lambda k: not is_kernel(k))          # kernels first, stable order
        self.keys = keys
        self.shapes = {k: model.params[k].shape for k in keys}
        sizes = [math.prod(self.shapes[k]) for k in keys]
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.slices = {k: slice(int(starts[i]), int(starts[i + 1])) for i, k in enumerate(keys)}
        self.n_kernel = int(sum(s for k, s in zip(keys, sizes) if is_kernel(k)))
        dtype = model.dtype
        self.params = np.empty(int(starts[-1]), dtype=dtype)                 # (P,)
        self.grads = np.zeros(int(starts[-1]), dtype=dtype)                  # (P,)
        self._grad_views: list[tuple[dict, str, np.ndarray]] = []
        owners = {f"{i}.{name}": layer for i, layer in enumerate(model.layers) for name in layer.params}
        for key in keys:
            layer, name = owners[key], key.split(".", 1)[1]
            view = self.params[self.slices[key]].reshape(self.shapes[key])
            view[...] = layer.params[name]
            layer.params[name] = model.params[key] = view
            gview = self.grads[self.slices[key]].reshape(self.shapes[key])
            layer.grads[name] = gview
            self._grad_views.append((layer.grads, name, gview))
        self.kernels, self.kernel_grads = self.params[:self.n_kernel], self.grads[:self.n_kernel]
        # frozen layers ("trainable": false): their slices get no gradient and are put back after each step,
        # so neither the optimizer (momentum, decoupled decay) nor a penalty or max-norm moves them a bit
        frozen = set(getattr(model, "frozen", ()))
        self.frozen = [self.slices[k] for k in keys if int(k.split(".", 1)[0]) in frozen]
        self.hold()

    def hold(self) -> None:
        """Remember the frozen layers' current values (after init_from or a weight edit changed them)."""
        self._held = [self.params[s].copy() for s in self.frozen]

    def zero_frozen_grads(self) -> None:
        for s in self.frozen:
            self.grads[s] = 0

    def restore_frozen(self) -> None:
        for s, values in zip(self.frozen, self._held):
            self.params[s] = values

    def sync_grads(self) -> None:
        """Layers that assign a new gradient array (instead of writing into theirs) are copied back."""
        for grads, name, view in self._grad_views:
            g = grads[name]
            if g is not view:
                view[...] = g
                grads[name] = view

    def split(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """A (P,) vector laid out like the parameters -> {"{i}.W": view, ...}."""
        return {k: flat[self.slices[k]].reshape(self.shapes[k]) for k in self.keys}

    def pack(self, by_key: dict[str, np.ndarray], fill: float = 0.0) -> np.ndarray:
        """{"{i}.W": array, ...} -> one (P,) vector (missing keys get `fill`)."""
        out = np.full(self.params.shape, fill, dtype=self.params.dtype)
        for k, a in by_key.items():
            if k in self.slices:
                out[self.slices[k]] = np.asarray(a).ravel()
        return out
