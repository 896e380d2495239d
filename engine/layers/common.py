"""The layer registry and the options shared by weighted layers."""
from __future__ import annotations

from ..activations import ACTIVATIONS
from ..initializers import INITIALIZERS
from ..params import Param
from ..registry import Registry

# {"type": "dense", "units": 8, "weights"?, "trainable"?, "code"?}: weights and the flags (engine/layer_flags.py)
# are not options of one layer type but apply to every layer
LAYERS = Registry("layer", key="type", data_keys=("weights", "trainable", "code"))


def weighted_options(kernel_default: str = "glorot_uniform") -> list[Param]:
    return [
        Param("activation", "choice", "linear", choices=ACTIVATIONS,
              help="applied to the layer's output; a name or {\"name\": ..., options}"),
        Param("kernel_initializer", "choice", kernel_default, choices=INITIALIZERS),
        Param("bias_initializer", "choice", "zeros", choices=INITIALIZERS),
    ]
