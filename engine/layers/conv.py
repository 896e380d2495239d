"""2-D convolution on images (N, C, H, W): im2col with sliding windows + one batched GEMM.

W is (filters, C_in, kh, kw), b is (filters,). Default kernel_initializer is glorot_uniform, the
Keras Conv2D default, so a spec means the same here as in Keras (pick he_uniform for deep relu stacks).
Fans follow Keras: fan_in = C_in*kh*kw, fan_out = filters*kh*kw.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import SpecError
from ..params import Param
from .base import WeightedLayer
from .common import LAYERS, weighted_options

MAX_FILTERS = 512
MAX_KERNEL = 15
MAX_STRIDE = 8


def pair(value, field: str) -> tuple[int, int]:
    """An int or a 1-/2-element list -> (rows, cols)."""
    if isinstance(value, int):
        return value, value
    if len(value) == 1:
        return value[0], value[0]
    if len(value) == 2:
        return value[0], value[1]
    raise SpecError(f"{field} must be one number or [rows, cols], got {list(value)}")


def check_image_shape(input_shape: tuple, layer: str) -> tuple[int, int, int]:
    if len(input_shape) != 3:
        raise SpecError(f"{layer} needs images (channels, height, width) but gets shape {list(input_shape)}")
    return input_shape


def window_geometry(size: int, k: int, s: int, padding: str) -> tuple[int, int, int]:
    """(output size, pad before, pad after) along one axis; 'same' pads like Keras (extra pad at the end)."""
    if padding == "valid":
        return (size - k) // s + 1, 0, 0
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return out, total // 2, total - total // 2


def windows(xp: np.ndarray, kh: int, kw: int, sh: int, sw: int, ho: int, wo: int) -> np.ndarray:
    """Strided view (N, C, ho, wo, kh, kw) of the kh x kw windows of a padded batch; no copy."""
    view = sliding_window_view(xp, (kh, kw), axis=(2, 3))  # (N, C, Hp-kh+1, Wp-kw+1, kh, kw)
    return view[:, :, : (ho - 1) * sh + 1 : sh, : (wo - 1) * sw + 1 : sw]


def scatter_windows(dwin: np.ndarray, padded_shape: tuple, sh: int, sw: int) -> np.ndarray:
    """Adjoint of `windows`: sum window gradients (kh, kw, N, C, ho, wo) back into (N, C, Hp, Wp).

    Loops over the kh*kw kernel offsets only; for one offset the strided target slices never overlap.
    """
    kh, kw, _, _, ho, wo = dwin.shape
    dxp = np.zeros(padded_shape, dtype=dwin.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i : i + (ho - 1) * sh + 1 : sh, j : j + (wo - 1) * sw + 1 : sw] += dwin[i, j]
    return dxp


@LAYERS.register("conv2d",
                 doc="2-D convolution: each filter slides over the image and sees a small patch",
                 params=[
                     Param("filters", "int", 8, 1, MAX_FILTERS, help="number of output channels"),
                     Param("kernel_size", "int_list", 3, 1, MAX_KERNEL, help="window size: n or [rows, cols]"),
                     Param("strides", "int_list", 1, 1, MAX_STRIDE, help="step between windows: n or [rows, cols]"),
                     Param("padding", "choice", "valid", choices=("valid", "same"),
                           help="valid: no padding; same: zero-pad so stride 1 keeps height and width"),
                 ] + weighted_options("glorot_uniform"))
class Conv2D(WeightedLayer):
    def compute_output_shape(self, input_shape):
        c, h, w = check_image_shape(input_shape, "conv2d")
        self.kh, self.kw = pair(self.config["kernel_size"], "kernel_size")
        self.sh, self.sw = pair(self.config["strides"], "strides")
        if self.kh > h or self.kw > w:
            raise SpecError(f"kernel_size {[self.kh, self.kw]} is larger than the input image {h}x{w}")
        pad = self.config["padding"]
        self.ho, self.pt, self.pb = window_geometry(h, self.kh, self.sh, pad)
        self.wo, self.pl, self.pr = window_geometry(w, self.kw, self.sw, pad)
        return (self.config["filters"], self.ho, self.wo)

    def weight_shapes(self, input_shape):
        c, f, k = input_shape[0], self.config["filters"], self.kh * self.kw
        return (f, c, self.kh, self.kw), (f,), c * k, f * k

    def pad(self, x):
        if not (self.pt or self.pb or self.pl or self.pr):
            return x
        return np.pad(x, ((0, 0), (0, 0), (self.pt, self.pb), (self.pl, self.pr)))

    def linear_forward(self, x):
        n, f = x.shape[0], self.config["filters"]
        xp = self.pad(x)
        self.padded_shape = xp.shape
        win = windows(xp, self.kh, self.kw, self.sh, self.sw, self.ho, self.wo)  # (N, C, ho, wo, kh, kw) view
        # per-sample columns (N, C*kh*kw, ho*wo): the copy reads rows of the image, and the
        # product below lands directly in (N, F, ho*wo) with no output transpose
        self.cols = win.transpose(0, 1, 4, 5, 2, 3).reshape(n, -1, self.ho * self.wo)
        # one batched GEMM: (F, C*kh*kw) @ (N, C*kh*kw, ho*wo) -> (N, F, ho*wo). small per-sample
        # products also keep OpenBLAS from spinning threads on a busy 2-core machine
        z = self.params["W"].reshape(f, -1) @ self.cols + self.params["b"][:, None]
        return z.reshape(n, f, self.ho, self.wo)

    def linear_backward(self, gz):
        n, f = gz.shape[0], self.config["filters"]
        w = self.params["W"]
        g = gz.reshape(n, f, -1)                                                 # (N, F, ho*wo)
        self.grads["W"] = (g @ self.cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)  # sum_n (F, L) @ (L, K)
        self.grads["b"] = g.sum(axis=(0, 2))
        if not self.needs_input_grad:  # first layer: nobody uses d(loss)/d(image)
            return None
        dcols = w.reshape(f, -1).T @ g                                          # (K, F) @ (N, F, L) -> (N, K, L)
        c = w.shape[1]
        dwin = dcols.reshape(n, c, self.kh, self.kw, self.ho, self.wo).transpose(2, 3, 0, 1, 4, 5)
        dxp = scatter_windows(dwin, self.padded_shape, self.sh, self.sw)        # (N, C, Hp, Wp)
        h, w_ = self.input_shape[1], self.input_shape[2]
        return dxp[:, :, self.pt : self.pt + h, self.pl : self.pl + w_]

    def describe_size(self):
        return f"{self.config['filters']}@{self.kh}x{self.kw}"
