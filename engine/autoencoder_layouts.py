"""The /autoencoder page's networks: an encoder and a decoder of dense or conv layers around a code layer, as
the job spec the page trains (GET /api/models/autoencoder gives OPTIONS, POST /api/models/autoencoder the spec).

The shape rules live here, not in the page:
- a conv encoder layer is a 3x3 "same" convolution and a 2x2 max-pool, halving the image side (28 -> 14 -> 7);
- a conv decoder starts as a dense layer reshaped to (first filters, s, s) with s = 28 / 2^layers, doubles s back
  to 28 with a 2x upsampling and a 3x3 convolution per layer, then a one-filter convolution, flattened to the 784
  pixels the targets are (the sigmoid after it keeps them in [0, 1]); so at most two conv decoder layers
  (28 = 7 x 2 x 2);
- a dense decoder ends in 784 sigmoid units; with no decoder sizes, that layer is the whole decoder.
"""
from __future__ import annotations

import math

from .datasets.mnist import IMAGE_SHAPE, IMAGE_OPTIONS
from .errors import SpecError
from .limits import DEFAULT_LIMITS
from .losses import LOSSES
from .params import Param, resolve_params
from .registry import Registry

SIDE = IMAGE_SHAPE[1]                       # MNIST's image side (28): the decoder's way back ends there
PIXELS = math.prod(IMAGE_SHAPE)             # 784 targets: the input flattened
ACTIVATIONS = ("relu", "tanh", "sigmoid")   # the hidden layers' activation the page offers
PARTS = Registry("autoencoder part")   # entries: encoder(sizes, activation), decoder(sizes, activation, path)
PART_FACTS = ("flat_input", "size_name")  # what an entry tells the page (GET /api/models/autoencoder)


def _dense(units: int, activation: str) -> dict:
    return {"type": "dense", "units": units, "activation": activation}


def _conv(filters: int, activation: str) -> dict:
    return {"type": "conv2d", "filters": filters, "kernel_size": 3, "padding": "same", "activation": activation}


@PARTS.register("dense", doc="fully connected layers; sizes are units per layer", flat_input=True,
                size_name="units")
class DenseParts:
    @staticmethod
    def encoder(sizes: list[int], activation: str) -> list[dict]:
        return [_dense(u, activation) for u in sizes]

    @staticmethod
    def decoder(sizes: list[int], activation: str, path: str) -> list[dict]:
        return [_dense(u, activation) for u in sizes] + [_dense(PIXELS, "sigmoid")]


@PARTS.register("conv", flat_input=False, size_name="filters",
                doc="3x3 convolutions; sizes are filters per layer. Encoder: each with a 2x2 max-pool (28 -> 14 -> 7); "
                    "decoder: each after a 2x upsampling, from 28 / 2^layers back to 28")
class ConvParts:
    max_decoder_layers = int(math.log2(SIDE & -SIDE))   # how often SIDE halves evenly: 2 for 28

    @staticmethod
    def encoder(sizes: list[int], activation: str) -> list[dict]:
        layers = []
        for f in sizes:
            layers += [_conv(f, activation), {"type": "maxpool2d", "pool_size": 2}]
        return layers + [{"type": "flatten"}]

    @classmethod
    def decoder(cls, sizes: list[int], activation: str, path: str) -> list[dict]:
        if len(sizes) > cls.max_decoder_layers:
            raise SpecError(f"a conv decoder doubles the side back up to {SIDE}, which halves evenly only "
                            f"{cls.max_decoder_layers} times ({SIDE} = {SIDE >> cls.max_decoder_layers} x "
                            f"{' x '.join(['2'] * cls.max_decoder_layers)}): give at most {cls.max_decoder_layers} "
                            f"sizes, got {len(sizes)}", path)
        side = SIDE >> len(sizes)
        layers = [_dense(sizes[0] * side * side, activation),
                  {"type": "reshape", "target_shape": [sizes[0], side, side]}]
        for f in sizes:
            layers += [{"type": "upsample2d", "size": 2}, _conv(f, activation)]
        return layers + [_conv(1, "linear"), {"type": "flatten"}, {"type": "activation", "activation": "sigmoid"}]


def _reconstruction_losses() -> tuple[str, ...]:
    """Losses that train a sigmoid output against the pixels (each loss declares its reconstruction heads)."""
    return tuple(name for name, loss in LOSSES.items()
                 if ("sigmoid", "targets") in getattr(loss, "reconstruction_heads", ()))


_LIMIT = next(p for p in IMAGE_OPTIONS if p.name == "limit")
MAX_UNITS = DEFAULT_LIMITS.max_units
OPTIONS = [
    Param("encoder", "choice", "dense", choices=PARTS, help="the encoder's layers: dense or conv"),
    Param("encoder_sizes", "int_list", [256], 1, MAX_UNITS,
          help="units (dense) or filters (conv) per encoder layer, input side first"),
    Param("code_units", "int", 2, 1, 64, help="width of the code layer: 2 draws the code space as a map"),
    Param("decoder", "choice", "dense", choices=PARTS, help="the decoder's layers: dense or conv"),
    Param("decoder_sizes", "int_list", [256], 1, MAX_UNITS, nullable=True,
          help="units (dense) or filters (conv) per decoder layer, code side first; empty: the output layer only"),
    Param("activation", "choice", "relu", choices=ACTIVATIONS, help="the hidden layers' activation"),
    Param("loss", "choice", "binary_crossentropy", choices=_reconstruction_losses(),
          help="how a reconstruction is compared with its image"),
    Param("limit", "int", 5000, 100, _LIMIT.max, help="training images (the first n of MNIST's training set)"),
    Param("input_noise", "float", 0.0, 0.0, 1.0,
          help="denoising: the standard deviation of the noise added to the inputs (the targets stay clean)"),
    Param("epochs", "int", 10, 1, 200, help="passes over the training images"),
]


def autoencoder_spec(options: dict | None, path: str = "options") -> dict:
    """The job spec for the page's options (SpecError naming the option on a bad one)."""
    if options is not None and not isinstance(options, dict):
        raise SpecError(f"must be a JSON object of options, got {type(options).__name__}", path)
    o = resolve_params(OPTIONS, options, path)
    encoder, decoder = PARTS.get(o["encoder"]), PARTS.get(o["decoder"])
    sizes = o["decoder_sizes"] or []
    layers = [*encoder.encoder(o["encoder_sizes"], o["activation"]),
              {"type": "dense", "units": o["code_units"], "activation": "linear", "code": True},
              *(decoder.decoder(sizes, o["activation"], f"{path}.decoder_sizes") if sizes
                else DenseParts.decoder([], o["activation"], f"{path}.decoder_sizes"))]
    dataset = {"name": "mnist", "flatten": encoder.flat_input, "target": "input", "limit": o["limit"]}
    if o["input_noise"]:
        dataset["input_noise"] = o["input_noise"]
    return {"dataset": dataset,
            "model": {"layers": layers, "loss": o["loss"]},
            "training": {"optimizer": {"name": "adam", "learning_rate": 0.001}, "batch_size": 128,
                         "epochs": o["epochs"]},
            "stream": {"boundary": False, "histograms": False}}


def autoencoder_layout(options: dict | None) -> dict:
    """{"spec", "layers": the builder's per-layer summary (type, output shape, parameters), "errors", "warnings",
    ...engine.summary's other keys}: what the page shows before it trains. Like the builder's summary it never
    raises: a bad option, a decoder that cannot reach 28x28 and whatever POST /api/jobs would refuse are listed
    in `errors` with their field paths (`spec` is null when the options make no spec)."""
    from .summary import summarize
    try:
        spec = autoencoder_spec(options)
    except SpecError as e:
        return {"spec": None, "layers": [], "n_params": 0, "task": None, "n_classes": None, "n_targets": None,
                "input_shape": None, "features": None, "output": None, "warnings": [],
                "errors": [{"path": p.path, "message": p.message} for p in e.problems]}
    return {"spec": spec, **summarize(spec["model"], spec["dataset"])}
