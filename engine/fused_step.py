"""A small dense network's training step in one function: forward, loss and backward of a stack of dense
layers without the layer objects' Python frames.

Why: with batches of 10, a 2-8-8-1 network's whole step is ~25 NumPy calls of about a microsecond each, and
the layer path's own frames (Model.forward, WeightedLayer.forward, linear_forward, backward, the model's
fused-loss dispatch) cost about as much again (the spiral profile in benchmarks/README.md). This step does
the same arithmetic in the same order on the same arrays (np.dot for the products: the same BLAS call as
the layers' `@`, with a third less overhead on tiny arrays): the activations' own forward / backward, the
loss's own value_and_grad / fused, the kernel and bias gradients written into the trainer's flat gradient
buffer (engine/flat.py) as Dense.linear_backward writes them. So training is bit-identical to the layer path
(tests/engine/test_fused_step.py). It does not write the layers' caches (x, z, out), which nothing reads
between two steps: the probes run a forward of their own.

The trainer uses it when every layer is dense and a batch is too small to be checked for a cancel between
layers (trainer.INTERRUPT_BATCH_FLOPS); a batch that Dense would split over a job's threads
(engine/parallel.py) goes the layer path, which splits it.
"""
from __future__ import annotations

import numpy as np

from .parallel import SPLIT


class FusedDenseStep:
    def __init__(self, model) -> None:
        self.loss = model.loss
        self.dense = model.layers
        acts = [layer.activation for layer in model.layers]
        # forward, per layer: (W, b or None, activation); backward, from the last layer: (i, W, dW, db or None,
        # the activation of the layer before, or None for the first layer); W, dW: views of the flat buffers
        self.forward_layers = [(layer.params["W"], layer.params.get("b"), act)
                               for layer, act in zip(model.layers, acts)]
        self.backward_layers = [(i, layer.params["W"], layer.grads["W"], layer.grads.get("b"),
                                 acts[i - 1] if i else None)
                                for i, layer in reversed(list(enumerate(model.layers)))]
        self.last_activation = acts[-1]
        # softmax + cross-entropy, sigmoid + binary cross-entropy: the loss gives d(loss)/dz directly
        self.fused = bool(self.loss.fused_with) and self.loss.fused_with == model.final_activation()
        self._splits: dict[tuple[int, int], bool] = {}   # (threads, rows) -> would Dense split this batch

    @staticmethod
    def fits(model) -> bool:
        """Every layer a dense layer (any activation), with its gradients in the flat buffer."""
        return model.flat is not None and all(layer.name == "dense" for layer in model.layers)

    def splits(self, rows: int) -> bool:
        """Whether Dense would split a batch of `rows` rows over the job's threads (its own rule, asked)."""
        if SPLIT.threads == 1:
            return False
        key = (SPLIT.threads, rows)
        if key not in self._splits:
            self._splits[key] = any(len(layer.row_blocks(rows)) > 1 for layer in self.dense)
        return self._splits[key]

    def __call__(self, x: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
        """(data loss, outputs) of a batch x (N, n_in) with targets t (N, K); fills the gradient buffer."""
        dot = np.dot
        xs, zs = [x], []                                    # per layer: its input (the previous output), z
        a = x
        for W, b, act in self.forward_layers:
            z = dot(a, W)                                   # (N, n_in) @ (n_in, units): a @ W's bits, less overhead
            if b is not None:
                z += b
            a = act.forward(z)
            zs.append(z)
            xs.append(a)
        if self.fused:
            loss, gz = self.loss.fused(z, a, t)             # d(loss)/dz of the output layer
        else:
            loss, g = self.loss.value_and_grad(a, t)
            gz = self.last_activation.backward(g, z, a)
        for i, W, dW, db, before in self.backward_layers:
            dot(xs[i].T, gz, out=dW)                        # (n_in, N) @ (N, units)
            if db is not None:
                np.add.reduce(gz, 0, out=db)                # over the batch axis
            if before is not None:                          # (N, units) @ (units, n_in), through the activation
                gz = before.backward(dot(gz, W.T), zs[i - 1], xs[i])
        return loss, a
