"""Every hard cap of the engine, in one place: what one job or one drawing may ask of the machine.

Registries' Param ranges, the dataset loaders, the stroke rasterizer and the spec checks all read
`DEFAULT_LIMITS` (or the `Limits` a server passes, each field overridable with NNPLAY_<FIELD>);
/api/catalog lists them all, with the server's own request limits beside them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Limits:
    """Hard caps that keep one job from exhausting the machine; a server may lower or raise them."""
    # the network
    max_layers: int = 32
    max_units: int = 4096              # units of a dense/maxout layer, filters of a conv layer
    max_params: int = 5_000_000
    # training
    max_epochs: int = 100_000          # also the cap of an open-ended run (training.epochs null)
    max_batch_size: int = 65_536
    # data
    max_samples: int = 100_000         # rows of training data (images or points)
    max_generated_points: int = 10_000  # n_samples of a generated 2-D set
    max_inline_points: int = 10_000    # rows of inline / CSV data, train + test
    max_inline_values: int = 1_000_000  # rows x columns of inline data
    max_inline_classes: int = 100
    max_csv_chars: int = 2_000_000
    # drawings (the digit reader)
    max_image_side: int = 4096         # pixels per side of an image array
    max_stroke_points: int = 10_000    # points per drawing (a browser records a few hundred per digit)
    max_stroke_coordinate: float = 1e6  # |x|, |y| in canvas coordinates
    max_pen_travel: float = 50.0       # total stroke length / the drawing's size: a digit ~2-6, a scribble ~20

    def to_json(self) -> dict:
        return asdict(self)


DEFAULT_LIMITS = Limits()
