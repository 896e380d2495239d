"""The layer registry and the options shared by weighted layers."""
from __future__ import annotations

from ..activations import ACTIVATIONS
from ..initializers import INITIALIZERS
from ..params import Param
from ..registry import Registry

LAYERS = Registry("layer", key="type", data_keys=("weights",))  # {"type": "dense", "units": 8, "weights"?}


def weighted_options(kernel_default: str = "glorot_uniform") -> list[Param]:
    return [
        Param("activation", "choice", "linear", choices=ACTIVATIONS,
              help="applied to the layer's output; a name or {\"name\": ..., options}"),
        Param("kernel_initializer", "choice", kernel_default, choices=INITIALIZERS),
        Param("bias_initializer", "choice", "zeros", choices=INITIALIZERS),
    ]
