"""Max and average pooling over (N, C, H, W), valid padding.

Both loop over the pool's ph*pw window offsets only: offset (i, j) of every window at once is the
strided slice x[:, :, i::sh, j::sw] (cropped to the output size). Measured on (128, 8, 26, 26)
this is faster than reshaping into explicit windows plus argmax/take_along_axis, and it handles
tiled and overlapping windows alike. Rows/cols that do not fill a window are dropped (valid padding).
Max-pool backward has a fast path for windows that do not overlap (the usual 2x2 stride 2): it writes
each offset's gradient straight into dx, with no argmax array and no scatter. Reshaping x into explicit
(ho, ph, wo, pw) windows and calling max over two axes was measured ~20x slower than the offset loop.
"""
from __future__ import annotations

import numpy as np

from ..errors import SpecError
from ..params import Param
from .base import Layer
from .common import LAYERS
from .conv import check_image_shape, pair, window_geometry
from .rows import split_rows

MAX_POOL = 8


POOL_OPTIONS = [
    Param("pool_size", "int_list", 2, 1, MAX_POOL, help="window size: n or [rows, cols]"),
    Param("strides", "int_list", None, 1, MAX_POOL, nullable=True,
          help="step between windows: n or [rows, cols]; default = pool_size"),
]


class Pool2D(Layer):

    def compute_output_shape(self, input_shape):
        c, h, w = check_image_shape(input_shape, self.name)
        self.ph, self.pw = pair(self.config["pool_size"], "pool_size")
        strides = self.config["strides"]
        self.sh, self.sw = (self.ph, self.pw) if strides is None else pair(strides, "strides")
        if self.ph > h or self.pw > w:
            raise SpecError(f"pool_size {[self.ph, self.pw]} is larger than the input image {h}x{w}")
        self.ho = window_geometry(h, self.ph, self.sh, "valid")[0]
        self.wo = window_geometry(w, self.pw, self.sw, "valid")[0]
        self.overlapping = self.sh < self.ph or self.sw < self.pw
        return (c, self.ho, self.wo)

    def offsets(self):
        """Index of every window offset: [(k, (slice rows, slice cols))], k = i * pw + j."""
        return [(i * self.pw + j, (slice(i, i + (self.ho - 1) * self.sh + 1, self.sh),
                                   slice(j, j + (self.wo - 1) * self.sw + 1, self.sw)))
                for i in range(self.ph) for j in range(self.pw)]

    def scatter(self, parts, grad):
        """dx from one (N, C, ho, wo) gradient per offset; they add up where windows overlap."""
        dx = np.zeros(self.x_shape, dtype=grad.dtype)
        for (k, (rows, cols)), part in zip(self.offsets(), parts):
            if self.overlapping:
                dx[:, :, rows, cols] += part
            else:
                dx[:, :, rows, cols] = part
        return dx

    def describe(self):
        return f"{self.name} {self.ph}x{self.pw}"


@LAYERS.register("maxpool2d", doc="keeps the largest value in each window; the gradient flows only to that value",
                 params=POOL_OPTIONS)
class MaxPool2D(Pool2D):
    def forward(self, x, training=False):
        self.x, self.x_shape = x, x.shape
        n, c = x.shape[:2]
        best = self.out = np.empty((n, c, self.ho, self.wo), dtype=x.dtype)
        offsets = self.offsets()

        def block(batch):                   # rows of the batch: a block of a split batch, or all of it
            views = [x[batch, :, rows, cols] for _, (rows, cols) in offsets]  # each (n_b, C, ho, wo)
            if len(views) == 1:
                np.copyto(best[batch], views[0])
            else:
                np.maximum(views[0], views[1], out=best[batch])
            for v in views[2:]:
                np.maximum(best[batch], v, out=best[batch])
        split_rows(n, x.size + best.size, block)
        return best

    def first_argmax(self):
        """(N, C, ho, wo) index of the first offset holding the max (ties -> first); found in backward
        only, so inference passes skip it."""
        views = [self.x[:, :, rows, cols] for _, (rows, cols) in self.offsets()]
        argmax = np.full(self.out.shape, len(views) - 1, dtype=np.uint8)
        for k in range(len(views) - 2, -1, -1):  # walk backwards: the earliest match is written last
            np.copyto(argmax, k, where=views[k] == self.out)
        return argmax

    def backward(self, grad):
        return self.backward_general(grad) if self.overlapping else self.backward_disjoint(grad)

    def backward_general(self, grad):
        """Any windows: first argmax, then one masked gradient per offset, summed where windows overlap."""
        argmax, zero = self.first_argmax(), grad.dtype.type(0)
        return self.scatter((np.where(argmax == k, grad, zero) for k, _ in self.offsets()), grad)

    def backward_disjoint(self, grad):
        """Windows that do not overlap (strides >= pool_size): bit-identical to backward_general, ~4x faster.

        Every input pixel is in at most one window, so each offset's gradient is written straight into
        dx's strided view. Offsets are walked in argmax order; a window takes the gradient at the first
        offset equal to its max and is then no longer free. The last offset takes every window still free,
        as the general argmax defaults to it (a window whose max is NaN equals none of its values).
        """
        bits = np.dtype(f"u{grad.dtype.itemsize}")
        n, _, h, w = self.x_shape
        tiled = self.ph == self.sh and self.pw == self.sw and self.ho * self.sh == h and self.wo * self.sw == w
        # windows that tile the input exactly write every pixel of dx below: no zero-fill pass needed
        dx = (np.empty if tiled else np.zeros)(self.x_shape, dtype=grad.dtype)
        dx_bits, grad_bits = dx.view(bits), grad.view(bits)
        *firsts, (_, (last_rows, last_cols)) = self.offsets()

        def block(batch):                   # rows of the batch: a block of a split batch, or all of it
            x, out, g = self.x[batch], self.out[batch], grad_bits[batch]
            free = np.ones(out.shape, dtype=bool)  # (n_b, C, ho, wo): max not routed yet
            hit = np.empty_like(free)
            for _, (rows, cols) in firsts:
                np.equal(x[:, :, rows, cols], out, out=hit)
                hit &= free
                free ^= hit
                # grad's bit pattern times 0/1 is grad or +0.0: a branch-free select (copyto with where= stalls
                # on random masks; a float multiply would give -0.0 and inf * 0 = nan)
                np.multiply(g, hit, out=dx_bits[batch, :, rows, cols])
            np.multiply(g, free, out=dx_bits[batch, :, last_rows, last_cols])
        split_rows(n, dx.size + grad.size, block)
        return dx


@LAYERS.register("avgpool2d", doc="averages each window", params=POOL_OPTIONS)
class AvgPool2D(Pool2D):
    def forward(self, x, training=False):
        self.x_shape = x.shape
        views = [x[:, :, rows, cols] for _, (rows, cols) in self.offsets()]  # each (N, C, ho, wo)
        total = views[0].copy()
        for v in views[1:]:
            total += v
        self.out = total / x.dtype.type(len(views))
        return self.out

    def backward(self, grad):
        share = grad / grad.dtype.type(self.ph * self.pw)
        return self.scatter((share for _ in self.offsets()), grad)
