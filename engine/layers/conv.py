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
from .rows import RowBlocks

MAX_FILTERS = 512
MAX_KERNEL = 15
MAX_STRIDE = 8


# The forward GEMM as cols^T @ [W | b]^T, (N*L, F), when the patch length K+1 is at least this: OpenBLAS then
# runs 1.1-1.3x faster than [W | b] @ cols (digit conv2, K+1 = 145: 1.13 against 1.37 ms), with the same bits;
# for short patches (a 1-channel 3x3 input, K+1 = 10) it is slower, as is the transposed copy back to NCHW
TRANSPOSED_FORWARD_MIN_K = 64


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
class Conv2D(RowBlocks, WeightedLayer):
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

    def forward(self, x, training=False):
        self.training = training   # training passes reuse this layer's scratch buffers (see scratch())
        if not training:
            # an inference pass (the end-of-epoch evaluation, predict) lets the training buffers go, so they are
            # not held on top of its own chunk's arrays; the next training batch allocates them again
            self.__dict__.pop("_scratch", None)
            self._ones_row = self.cols = self._buf = self._xp = None   # views of the training buffers
        return super().forward(x, training)

    def scratch(self, name: str, shape: tuple, dtype, zero: bool = False) -> np.ndarray:
        """A buffer kept across training batches (one per name; a new batch size or dtype replaces it).

        Inference passes get a fresh array instead, so a large evaluation chunk does not stay allocated.
        `zero`: zero-filled when created; callers that write only part of it rely on the rest staying 0.
        """
        buffers = self.__dict__.setdefault("_scratch", {})
        buf = buffers.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype or not getattr(self, "training", False):
            buf = (np.zeros if zero else np.empty)(shape, dtype=dtype)
            if getattr(self, "training", False):
                buffers[name] = buf
        return buf

    def start_forward(self, x):
        """The batch's shared buffers: padded input, im2col columns (+ a row of ones), [W | b], z (N, F, ho, wo)."""
        n, f, c = x.shape[0], self.config["filters"], x.shape[1]
        if self.pt or self.pb or self.pl or self.pr:
            # a reused buffer whose border stays zero; each block copies its own rows in
            self._xp = self.scratch("xp", (n, c, x.shape[2] + self.pt + self.pb, x.shape[3] + self.pl + self.pr),
                                    x.dtype, zero=True)
        else:
            self._xp = None
        self.padded_shape = (n, c, x.shape[2] + self.pt + self.pb, x.shape[3] + self.pl + self.pr)
        # im2col for the whole batch, (C, kh, kw, N, ho, wo) = (K, N*L): one copy into a reused buffer, so
        # the forward product and the weight gradient are each one large GEMM instead of N small per-sample
        # products; a block of rows is a block of columns. The buffer has one more row of ones, so the bias
        # rides in the same GEMM: adding it to the transposed output afterwards was a slow broadcast pass
        # (as long as conv1's whole product)
        k, cells = c * self.kh * self.kw, n * self.ho * self.wo
        buf = self.scratch("cols", (k + 1, cells), x.dtype)
        if self.__dict__.get("_ones_row") is not buf:       # a new buffer: set its row of ones once
            buf[k] = 1
            self._ones_row = buf
        self._buf = buf
        self.cols = buf[:k]                                                        # (K, N*L)
        wb = self._wb = np.empty((f, k + 1), dtype=x.dtype)                        # [W | b]
        wb[:, :k] = self.params["W"].reshape(f, k)
        wb[:, k] = self.params["b"] if self.has_bias else 0
        return np.empty((n, f, self.ho, self.wo), dtype=x.dtype)

    def forward_rows(self, x, z, rows):
        n, c = x.shape[0], x.shape[1]
        a, b = rows.start, rows.stop
        xp = x
        if self._xp is not None:
            xp = self._xp
            xp[a:b, :, self.pt : self.pt + x.shape[2], self.pl : self.pl + x.shape[3]] = x[a:b]
        win = windows(xp[a:b], self.kh, self.kw, self.sh, self.sw, self.ho, self.wo)  # (n_b, C, ho, wo, kh, kw) view
        k, cell = c * self.kh * self.kw, self.ho * self.wo
        np.copyto(self._buf[:k].reshape(c, self.kh, self.kw, n, self.ho, self.wo)[:, :, :, a:b],
                  win.transpose(1, 4, 5, 0, 2, 3))
        cols = self._buf[:, a * cell : b * cell]                        # (K+1, n_b*L)
        if cols.shape[0] >= TRANSPOSED_FORWARD_MIN_K:
            zt = cols.T @ self._wb.T                                    # (n_b*L, K+1) @ (K+1, F) -> (n_b*L, F)
            np.copyto(z[a:b], zt.reshape(b - a, self.ho, self.wo, -1).transpose(0, 3, 1, 2))
        else:
            zf = self._wb @ cols                                        # (F, K+1) @ (K+1, n_b*L) -> (F, n_b*L)
            np.copyto(z[a:b], zf.reshape(-1, b - a, self.ho, self.wo).transpose(1, 0, 2, 3))  # -> (n_b, F, ho, wo)

    def start_backward(self, gz):
        n, f = gz.shape[0], self.config["filters"]
        self._gf = self.scratch("gf", (f, n, self.ho, self.wo), gz.dtype)            # (F, N*L) once reshaped
        if self.needs_input_grad and self.sh == 1 and self.sw == 1:
            _, _, hp, wp = self.padded_shape
            self._grid = self.scratch("grid", (f, n, hp, wp), gz.dtype, zero=True)   # zero where no output pixel

    def backward_rows(self, gz, rows, grads, dx):
        f, a, b = self.config["filters"], rows.start, rows.stop
        cell = self.ho * self.wo
        wm = self.params["W"].reshape(f, -1)                                      # (F, K)
        gf = self._gf
        np.copyto(gf[:, a:b], gz.transpose(1, 0, 2, 3))                          # (F, n_b, ho, wo)
        gf = gf.reshape(f, -1)[:, a * cell : b * cell]                            # (F, n_b*L)
        # one GEMM over the block, as (K, n_b*L) @ (n_b*L, F) -> (K, F): the same bits as (F, n_b*L) @ (n_b*L, K)
        # and 1.0-1.7x faster in OpenBLAS for every conv shape measured; then into the flat-buffer gradient array
        dw = grads["W"].view()
        dw.shape = wm.shape          # raises rather than silently writing into a copy
        np.copyto(dw, np.matmul(self.cols[:, a * cell : b * cell], gf.T).T)
        if self.has_bias:
            gf.sum(axis=1, out=grads["b"])
        if dx is None:
            return
        if self.sh == 1 and self.sw == 1:
            self.input_grad_stride1(gz, wm, rows, dx)
            return
        dcols = wm.T @ gf                                                         # (K, F) @ (F, n_b*L) -> (K, n_b*L)
        c = wm.shape[1] // (self.kh * self.kw)
        dwin = dcols.reshape(c, self.kh, self.kw, b - a, self.ho, self.wo).transpose(1, 2, 3, 0, 4, 5)
        dxp = scatter_windows(dwin, (b - a,) + self.padded_shape[1:], self.sh, self.sw)   # (n_b, C, Hp, Wp)
        h, w_ = self.input_shape[1], self.input_shape[2]
        np.copyto(dx[a:b], dxp[:, :, self.pt : self.pt + h, self.pl : self.pl + w_])

    def input_grad_stride1(self, gz, wm, rows, dx):
        """d(loss)/d(input) rows for stride 1: one GEMM, then col2im as kh*kw contiguous adds.

        The block is laid out as one tall image per channel, (C, n_b*Hp*Wp) with each sample's padded rows
        (Hp, Wp) in turn. Output pixel p = (n, y, x) sits at flat position n*Hp*Wp + y*Wp + x of the same grid
        and reads input position p + i*Wp + j for kernel offset (i, j). So with the output gradient spread on
        that grid (zeros at the positions y >= ho or x >= wo, which are no output pixel), col2im for offset
        (i, j) is one shifted add of a contiguous (C, n_b*Hp*Wp) block: no short strided rows, no scatter. The
        grid is Hp*Wp / (ho*wo) larger than the output (1.3x for 14x14 'same'), which the GEMM pays for.
        A sample's adds stay inside its own Hp*Wp cells, so blocks of samples need no shared buffer.
        """
        (f, c, kh, kw), a, b = self.params["W"].shape, rows.start, rows.stop
        _, _, hp, wp = self.padded_shape
        cells = hp * wp
        t, tail = (b - a) * cells, (kh - 1) * wp + kw - 1
        grid = self._grid
        grid[:, a:b, : self.ho, : self.wo] = gz.transpose(1, 0, 2, 3)
        dcols = (wm.T @ grid.reshape(f, -1)[:, a * cells : b * cells]).reshape(c, kh, kw, t)  # (K, F) @ (F, T)
        dxp = self.scratch(f"dxp{a}", (c, t + tail), gz.dtype)                  # (C, T) plus the last shift's overrun
        dxp[:, :t] = dcols[:, 0, 0]
        dxp[:, t:] = 0
        for i in range(kh):
            for j in range(kw):
                if i or j:
                    shift = i * wp + j
                    dxp[:, shift : shift + t] += dcols[:, i, j]
        h, w_ = self.input_shape[1], self.input_shape[2]
        np.copyto(dx[a:b], dxp[:, :t].reshape(c, b - a, hp, wp)[:, :, self.pt : self.pt + h, self.pl : self.pl + w_]
                  .transpose(1, 0, 2, 3))

    def describe_size(self):
        return f"{self.config['filters']}@{self.kh}x{self.kw}"
