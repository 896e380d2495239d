"""The layer registry and the options shared by weighted layers."""
from __future__ import annotations

from ..activations import ACTIVATIONS
from ..initializers import INITIALIZERS
from ..params import Param
from ..registry import Registry

LAYERS = Registry("layer")


def weighted_options(kernel_default: str = "glorot_uniform") -> list[Param]:
    return [
        Param("activation", "choice", "linear", choices=tuple(ACTIVATIONS.names()),
              help="applied to the layer's output; a name or {\"name\": ..., options}"),
        Param("kernel_initializer", "choice", kernel_default, choices=tuple(INITIALIZERS.names())),
        Param("bias_initializer", "choice", "zeros", choices=tuple(INITIALIZERS.names())),
    ]
