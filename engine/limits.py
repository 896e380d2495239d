"""Every hard cap of the engine, in one place: what one job or one drawing may ask of the machine.

Registries' Param ranges, the dataset loaders, the stroke rasterizer and the spec checks all read
`DEFAULT_LIMITS` (or the `Limits` a server passes, each field overridable with NNPLAY_<FIELD>);
/api/catalog lists them all, with the server's own request limits beside them.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass


def _machine_memory() -> int:
    """Physical memory in bytes (read once, at import); 8 GiB when the system does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


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
    # k-NN (engine/knn.py): training rows x evaluated rows (test + validation), each pair one distance
    max_knn_pairs: int = 100_000_000
    # what a trained network's layers make of the data (engine/representations.py, /codes /decode /reconstructions)
    max_code_rows: int = 10_000          # test examples per /codes answer
    max_decode_rows: int = 1_000         # codes per /decode request
    max_reconstruction_rows: int = 200   # examples per /reconstructions answer
    # peak memory of one job (engine/memory.py's estimate: weights, optimizer, one batch's activations,
    # boundary grid, data); half the machine, so a job cannot take the server down with it
    max_job_bytes: int = _machine_memory() // 2
    # compute per epoch (and per set of frames) up to which a job is "light" (engine/cost.py): light jobs
    # share warm worker processes and never queue behind heavy ones; the default playground job needs ~0.3 M
    light_job_flops: int = 50_000_000
    # data
    max_samples: int = 100_000         # rows of training data (images or points)
    max_generated_points: int = 10_000  # n_samples of a generated 2-D set
    max_inline_points: int = 10_000    # rows of inline / CSV data, train + test
    # rows x columns of inline data: a job at the limit (~2 MB of JSON) is parsed, checked and stored in ~0.3 s
    max_inline_values: int = 200_000
    max_inline_classes: int = 100
    max_csv_chars: int = 2_000_000
    # sequences (engine/datasets/sequences.py) and text sampling (engine/sampling.py)
    max_seq_len: int = 1000            # time steps of a sequence dataset
    max_text_chars: int = 500_000      # characters of a text the user pastes (the shipped one is ~200 KB)
    max_generate_chars: int = 2000     # characters one /generate call samples
    max_prompt_chars: int = 1000       # characters of its prompt
    # drawings (the digit reader)
    max_image_side: int = 4096         # pixels per side of an image array
    max_stroke_points: int = 5_000     # points per drawing (a browser records a few hundred per digit)
    max_strokes: int = 100             # pen-downs per drawing (a digit has 1-4); each is drawn on its own pixels
    max_stroke_coordinate: float = 1e6  # |x|, |y| in canvas coordinates
    max_pen_travel: float = 30.0       # total stroke length / the drawing's size: a digit ~2-6, a scribble ~20
    # lessons: the backprop lesson's expressions (engine/lessons/expression.py) and small networks
    max_expression_chars: int = 500    # characters of an expression
    max_expression_nodes: int = 200    # syntax-tree nodes of an expression
    max_expression_values: int = 10_000  # elements of any one array in it (a value or an intermediate)
    max_expression_exponent: float = 10.0  # |p| in a ** p (p must be a number)
    max_lesson_layers: int = 8         # dense layers of a backprop-lesson network
    max_lesson_units: int = 16         # units (and inputs) per layer of a backprop-lesson network
    max_lesson_rows: int = 256         # rows of x in a backprop-lesson step
    max_lesson_steps: int = 5_000      # SGD steps of a lesson's loss curve
    # hyperparameter sweeps (engine/sweeps.py): trials per sweep, trials running at once per sweep,
    # swept settings and listed values per setting
    max_sweep_trials: int = 100
    max_sweep_parallel: int = 8
    max_sweep_parameters: int = 8
    max_sweep_values: int = 50

    def to_json(self) -> dict:
        return asdict(self)


DEFAULT_LIMITS = Limits()
