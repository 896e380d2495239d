"""What a model learns from a dataset: its labels (the default) or its own inputs (an autoencoder).

`"target": "input"` on any dataset (2-D, inline, MNIST, Fashion-MNIST) turns it into a reconstruction
task: the targets are the raw inputs flattened to (N, D) (before features and preprocessing), the labels
are kept in `Dataset.labels` (codes are coloured by them), and `"input_noise": sigma` adds Gaussian
noise to the inputs only, so the network learns to remove it (a denoising autoencoder).
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..errors import SpecError
from ..params import Param
from .base import DataFacts, Dataset

TARGET_KEYS = ("target", "input_noise")
TARGET_OPTIONS = [
    Param("target", "choice", "label", choices=("label", "input"),
          help="label: learn the labels; input: reproduce the inputs through the network (an autoencoder)"),
    # not "noise": the 2-D sets already have a noise option (how messy the points are)
    Param("input_noise", "float", 0.0, 0.0, 10.0,
          help="target input only: standard deviation of Gaussian noise added to the inputs, never to the "
               "targets (a denoising autoencoder); fixed per example, drawn from the dataset's seed"),
]
RECONSTRUCTION = "reconstruction"


def normalize_target(spec: dict, path: str = "dataset") -> dict:
    """{"target", "input_noise"} with defaults filled; SpecError naming the field."""
    from ..params import resolve_params
    given = {k: spec[k] for k in TARGET_KEYS if k in spec}
    out = resolve_params(TARGET_OPTIONS, given, path)
    if out["input_noise"] and out["target"] != "input":
        raise SpecError("applies to \"target\": \"input\" (a denoising autoencoder) only", f"{path}.input_noise")
    return out


def reconstruction_facts(facts: DataFacts) -> DataFacts:
    """What an autoencoder on this data must fit: one output per input value."""
    return replace(facts, task=RECONSTRUCTION, n_classes=None, n_targets=math.prod(facts.input_shape))


def _noisy(x: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    return (x + rng.normal(0.0, sigma, size=x.shape).astype(x.dtype)).astype(x.dtype, copy=False)


def as_reconstruction(ds: Dataset, input_noise: float = 0.0, seed: int = 0) -> Dataset:
    """The same inputs with targets = the clean inputs (N, D) float32; labels move to `ds.labels`."""
    rng = np.random.default_rng(seed)
    splits = {}
    for name in ("train", "val", "test"):
        x = getattr(ds, f"x_{name}")
        if x is None:
            splits.update({f"x_{name}": None, f"y_{name}": None})
            continue
        target = x.reshape(len(x), -1).astype(np.float32)                    # (N, D) clean copy
        splits[f"x_{name}"] = _noisy(x, input_noise, rng) if input_noise else x
        splits[f"y_{name}"] = target
    labels = {name: getattr(ds, f"y_{name}") for name in ("train", "val", "test")
              if getattr(ds, f"y_{name}") is not None and ds.task == "classification"}
    return replace(ds, **splits, task=RECONSTRUCTION, n_classes=None,
                   labels=labels or None, label_names=ds.class_names, class_names=None)


def apply_target(ds: Dataset, spec: dict) -> Dataset:
    """`ds` as the spec's target asks (labels: unchanged)."""
    if spec.get("target", "label") != "input":
        return ds
    return as_reconstruction(ds, float(spec.get("input_noise") or 0.0), int(spec.get("seed") or 0) + 1)
