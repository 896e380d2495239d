"""Nearest-neighbour upsampling (Keras UpSampling2D): each pixel repeated into a size x size block.

A conv decoder's way back up: (N, C, H, W) -> (N, C, H*sh, W*sw); followed by a conv2d it learns what a
transposed convolution would. No parameters; the gradient of an output block sums back into its pixel.
"""
from __future__ import annotations

from ..params import Param
from .base import Layer
from .common import LAYERS
from .conv import check_image_shape, pair

MAX_FACTOR = 8


@LAYERS.register("upsample2d", doc="repeats each pixel into a size x size block (nearest neighbour): "
                                   "a conv decoder's way back to the image's size",
                 params=[Param("size", "int_list", 2, 1, MAX_FACTOR, help="factor: n or [rows, cols]")])
class UpSample2D(Layer):
    def build(self, input_shape, rng, dtype):
        self.sh, self.sw = pair(self.config["size"], "size")
        return super().build(input_shape, rng, dtype)

    def compute_output_shape(self, input_shape):
        c, h, w = check_image_shape(input_shape, "upsample2d")
        sh, sw = pair(self.config["size"], "size")
        return (c, h * sh, w * sw)

    def forward(self, x, training=False):
        # (N, C, H, W) -> (N, C, H*sh, W*sw): a repeat along each image axis, no Python loop
        self.out = x.repeat(self.sh, axis=2).repeat(self.sw, axis=3)
        return self.out

    def backward(self, grad):
        n, c, h, w = grad.shape
        # (N, C, H, sh, W, sw): the sh x sw copies of each input pixel, summed (a new array; grad untouched)
        return grad.reshape(n, c, h // self.sh, self.sh, w // self.sw, self.sw).sum(axis=(3, 5))

    def describe(self):   # the summary describes unbuilt layers: from the config
        sh, sw = pair(self.config["size"], "size")
        return f"upsample2d {sh}x{sw}"
