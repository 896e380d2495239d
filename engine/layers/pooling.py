"""Max and average pooling over (N, C, H, W), valid padding.

When strides == pool_size the windows tile the image: a reshape gives them without copying
(rows/cols that do not fill a window are dropped, as valid padding does). Other strides use
sliding windows, and backward loops over the pool's kernel offsets only.
"""
from __future__ import annotations

import numpy as np

from ..errors import SpecError
from ..params import Param
from .base import Layer
from .common import LAYERS
from .conv import check_image_shape, pair, scatter_windows, window_geometry, windows

MAX_POOL = 8


class Pool2D(Layer):
    options = [
        Param("pool_size", "int_list", 2, 1, MAX_POOL, help="window size: n or [rows, cols]"),
        Param("strides", "int_list", None, 1, MAX_POOL, nullable=True,
              help="step between windows: n or [rows, cols]; default = pool_size"),
    ]

    def compute_output_shape(self, input_shape):
        c, h, w = check_image_shape(input_shape, self.type_name)
        self.ph, self.pw = pair(self.config["pool_size"], "pool_size")
        strides = self.config["strides"]
        self.sh, self.sw = (self.ph, self.pw) if strides is None else pair(strides, "strides")
        if self.ph > h or self.pw > w:
            raise SpecError(f"pool_size {[self.ph, self.pw]} is larger than the input image {h}x{w}")
        self.ho = window_geometry(h, self.ph, self.sh, "valid")[0]
        self.wo = window_geometry(w, self.pw, self.sw, "valid")[0]
        self.tiled = (self.sh, self.sw) == (self.ph, self.pw)
        return (c, self.ho, self.wo)

    def forward(self, x, training=False):
        self.x_shape = x.shape
        if self.tiled:
            n, c = x.shape[:2]
            crop = x[:, :, : self.ho * self.ph, : self.wo * self.pw]
            win = crop.reshape(n, c, self.ho, self.ph, self.wo, self.pw).transpose(0, 1, 2, 4, 3, 5)
        else:
            win = windows(x, self.ph, self.pw, self.sh, self.sw, self.ho, self.wo)
        win = win.reshape(win.shape[:4] + (self.ph * self.pw,))  # (N, C, ho, wo, ph*pw)
        self.out = self.pool(win)
        return self.out

    def backward(self, grad):
        dwin = self.window_grad(grad)  # (N, C, ho, wo, ph*pw)
        n, c = grad.shape[:2]
        if self.tiled:
            dcrop = dwin.reshape(n, c, self.ho, self.wo, self.ph, self.pw).transpose(0, 1, 2, 4, 3, 5)
            dcrop = dcrop.reshape(n, c, self.ho * self.ph, self.wo * self.pw)
            if dcrop.shape == self.x_shape:
                return dcrop
            dx = np.zeros(self.x_shape, dtype=grad.dtype)
            dx[:, :, : self.ho * self.ph, : self.wo * self.pw] = dcrop
            return dx
        dwin = dwin.reshape(n, c, self.ho, self.wo, self.ph, self.pw).transpose(4, 5, 0, 1, 2, 3)
        return scatter_windows(dwin, self.x_shape, self.sh, self.sw)

    def pool(self, win):
        raise NotImplementedError

    def window_grad(self, grad):
        raise NotImplementedError

    def describe(self):
        return f"{self.type_name} {self.ph}x{self.pw}"


@LAYERS.register("maxpool2d")
class MaxPool2D(Pool2D):
    doc = "keeps the largest value in each window; the gradient flows only to that value"

    def pool(self, win):
        self.argmax = win.argmax(axis=-1)  # (N, C, ho, wo); ties -> first
        return np.take_along_axis(win, self.argmax[..., None], axis=-1)[..., 0]

    def window_grad(self, grad):
        onehot = self.argmax[..., None] == np.arange(self.ph * self.pw)  # (N, C, ho, wo, ph*pw)
        return onehot * grad[..., None]


@LAYERS.register("avgpool2d")
class AvgPool2D(Pool2D):
    doc = "averages each window"

    def pool(self, win):
        return win.mean(axis=-1)

    def window_grad(self, grad):
        share = grad / grad.dtype.type(self.ph * self.pw)
        return np.broadcast_to(share[..., None], share.shape + (self.ph * self.pw,))
