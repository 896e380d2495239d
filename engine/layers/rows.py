"""Row blocks: a conv layer's forward and backward computed on blocks of the batch's rows at once.

(dense splits only its two GEMMs, in its own linear_forward/linear_backward: a tiny network's layer is a
few microseconds, and any extra Python frame per call shows.) engine/parallel.py decides the blocks (one, the whole batch, unless the job has several threads and the
layer's batch is large) and runs them. A layer that mixes in `RowBlocks` (before WeightedLayer in its bases)
implements:
- `start_forward(x) -> z`: on the calling thread, the (N, *out) pre-activation array and any whole-batch
  scratch the blocks share (each block writes only its own rows of them);
- `forward_rows(x, z, rows)`: z[rows] from x[rows];
- `start_backward(gz)`: whole-batch scratch for the backward pass;
- `backward_rows(gz, rows, grads, dx)`: from gz = d(loss)/dz[rows], this block's parameter gradients into
  `grads` (one array per key, written, not added) and, when dx is not None, dx[rows].
With one block, `linear_forward`/`linear_backward` run on the whole batch and write self.grads directly, so one thread does
exactly what it did before the split existed. With several, each block's gradient goes to
a buffer of its own and the buffers are added in block order: the same bits on every run with the same
thread count (the rounding differs from one thread's, as a BLAS thread split's does).
"""
from __future__ import annotations

import math

import numpy as np

from ..parallel import SPLIT


WHOLE = [slice(None)]   # one block: the whole batch


class RowBlocks:
    blocks: list = WHOLE

    def split_ok(self, x: np.ndarray) -> bool:
        """Whether this batch may be split by rows (a subclass with other input layouts says no)."""
        return True

    def forward(self, x, training=False):
        n = x.shape[0]
        # one thread (every light job, a tiny network's whole run): straight to WeightedLayer's forward, no
        # block bookkeeping per batch
        self.blocks = (WHOLE if SPLIT.threads == 1 or not self.split_ok(x)
                       else SPLIT.parts(n, x.size + n * math.prod(self.output_shape)))
        if len(self.blocks) == 1:
            return super().forward(x, training)          # WeightedLayer: linear_forward, then the activation
        self.x = x
        z = self.z = self.start_forward(x)               # (N, *out)
        linear = self.activation.name == "linear"
        out = self.out = z if linear else np.empty_like(z)

        def block(i, rows):
            self.forward_rows(x, z, rows)
            if not linear:
                out[rows] = self.activation.forward(z[rows])
        SPLIT.run(block, self.blocks)
        return out

    def linear_forward(self, x):
        z = self.start_forward(x)
        self.forward_rows(x, z, slice(0, x.shape[0]))
        return z

    def linear_backward(self, gz):
        self.start_backward(gz)
        dx = self.new_input_grad(gz)
        self.backward_rows(gz, slice(0, gz.shape[0]), self.grads, dx)
        return dx

    def backward(self, grad):
        if len(self.blocks) == 1:
            return super().backward(grad)
        return self.split_backward(grad, through_activation=True)

    def backward_from_preactivation(self, gz):
        if len(self.blocks) == 1:
            return super().backward_from_preactivation(gz)
        return self.split_backward(gz, through_activation=False)

    def new_input_grad(self, g: np.ndarray) -> np.ndarray | None:
        if not self.needs_input_grad:  # first layer: nobody uses d(loss)/d(image)
            return None
        return np.empty((g.shape[0],) + tuple(self.input_shape), dtype=g.dtype)

    def split_backward(self, grad, through_activation: bool):
        blocks = self.blocks
        self.start_backward(grad)
        dx = self.new_input_grad(grad)
        parts = block_grads(self, len(blocks))

        def block(i, rows):
            g = grad[rows]
            gz = self.activation.backward(g, self.z[rows], self.out[rows]) if through_activation else g
            self.backward_rows(gz, rows, parts[i], dx)
        SPLIT.run(block, blocks)
        add_block_grads(self.grads, parts)
        return dx


def block_grads(layer, n_blocks: int) -> list[dict[str, np.ndarray]]:
    """One gradient buffer per block and parameter, like layer.grads, kept across batches (each is written
    whole by its block)."""
    buffers = layer.__dict__.setdefault("_block_grads", {})
    parts = []
    for i in range(n_blocks):
        part = {}
        for key, like in layer.grads.items():
            buf = buffers.get((i, key))
            if buf is None or buf.shape != like.shape or buf.dtype != like.dtype:
                buf = buffers[(i, key)] = np.empty_like(like)
            part[key] = buf
        parts.append(part)
    return parts


def add_block_grads(grads: dict[str, np.ndarray], parts: list[dict[str, np.ndarray]]) -> None:
    """grads[key] = the blocks' partial gradients added in block order: the same sum on every run."""
    for key, total in grads.items():
        np.add(parts[0][key], parts[1][key], out=total)
        for part in parts[2:]:
            total += part[key]


def split_rows(n: int, work: int, fn) -> None:
    """Elementwise-in-the-batch layers (pooling, activations): fn(rows) on each block of the n rows."""
    SPLIT.run(lambda i, rows: fn(rows), SPLIT.parts(n, work))
