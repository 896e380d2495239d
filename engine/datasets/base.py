"""The Dataset record, the DATASETS registry and the options every 2-D set shares."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..limits import DEFAULT_LIMITS
from ..params import Param
from ..registry import Registry

# every entry is fn(options: dict, spec: dict, features: list | None) -> Dataset; `kind` ("2d", "gates",
# "inline", "image") tells the catalog and UI what the set is; `extra_keys` are spec keys the entry reads
# itself (inline's x / y) rather than through Params
DATASETS = Registry("dataset", data_keys=("features", "preprocessing",  # read by the pipeline, not the entry
                                          "target", "input_noise"),     # read by datasets/target.py
                    defaults={"task": "classification", "extra_keys": ()})

MAX_SAMPLES = DEFAULT_LIMITS.max_generated_points   # generated 2-D sets
PLAYGROUND_DOMAIN = [[-6.0, 6.0], [-6.0, 6.0]]
SEED_MAX = 2**31 - 1

# how the noise number reads everywhere: the playground's "noise 0..50 %" slider divided by 100,
# allowed up to 1.0 for a really messy set
NOISE_HELP = "0 = clean; 0.5 = the playground's 50 % (what exactly moves is in each dataset's doc)"


@dataclass
class Dataset:
    """Train / (validation) / test splits plus what the UI and the trainer need to know about them.

    x arrays are float32 (N, D) or (N, 1, 28, 28); classification labels int64 (N,); regression targets
    float32 (N, K) (K = n_targets, 1 for the generated sets). points_* keep the raw 2-D points (before
    features) for plotting. `features` is set only when the 2-D feature transform was applied (2-column
    point data); `input_names` names the raw input columns (CSV header names, x1..xk for inline rows).
    """
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    task: str = "classification"
    n_classes: int | None = None
    class_names: list[str] | None = None
    input_shape: tuple = ()
    domain: list[list[float]] | None = None
    features: list[str] | None = None
    points_train: np.ndarray | None = None
    points_test: np.ndarray | None = None
    input_names: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. where image files came from
    # reconstruction (target "input"): the class labels per split ("train", "val", "test") and their names,
    # kept to colour the codes by; the targets are the inputs (engine/datasets/target.py)
    labels: dict[str, np.ndarray] | None = None
    label_names: list[str] | None = None

    @property
    def n_targets(self) -> int | None:
        """Regression: target values per example (the output layer's units); classification: None."""
        return None if self.task == "classification" else int(self.y_train.reshape(len(self.y_train), -1).shape[1])

    def facts(self) -> "DataFacts":
        n_eval = sum(len(x) for x in (self.x_test, self.x_val) if x is not None)
        return DataFacts(tuple(self.input_shape), self.task, self.n_classes, self.n_targets, len(self.x_train),
                         has_validation=self.x_val is not None and len(self.x_val) > 0,
                         has_test=self.x_test is not None and len(self.x_test) > 0,
                         n_eval=n_eval, n_train_max=len(self.x_train))

    def summary(self) -> dict:
        """JSON-ready sizes and metadata (no arrays)."""
        def n(a):
            return None if a is None else int(len(a))
        return {"name": self.name, "task": self.task, "n_classes": self.n_classes,
                "class_names": self.class_names, "input_shape": list(self.input_shape),
                "n_train": n(self.x_train), "n_val": n(self.x_val), "n_test": n(self.x_test),
                "domain": self.domain, "features": self.features, "input_names": self.input_names,
                "n_targets": self.n_targets, "label_names": self.label_names}


@dataclass(frozen=True)
class DataFacts:
    """What a model must fit, known before training: per-sample input shape (after features), task,
    class count (classification) and target width (regression). Cheap sets get it from the built
    Dataset; image sets declare it (`entry.declared(options)`), so validation never reads their files."""
    input_shape: tuple
    task: str
    n_classes: int | None = None
    n_targets: int | None = None
    n_train: int | None = None     # training rows, when known without reading files
    has_validation: bool = False   # the data brings its own validation rows (training.validation_split adds some)
    has_test: bool = True          # a test set exists, so epochs report test_* metrics
    # upper bounds for k-NN's pair limit, not part of what the data is (left out of ==)
    n_eval: int | None = field(default=None, compare=False)       # test + validation rows, at most
    n_train_max: int | None = field(default=None, compare=False)  # training rows at most (image files: the file)


def validation_count(n_train: int, fraction: float) -> int:
    """Rows `training.validation_split` holds out of `n_train` (at least one): the trainer's rule."""
    return max(1, int(round(n_train * fraction)))


def seed_param() -> Param:
    return Param("seed", "int", 0, 0, SEED_MAX, help="random seed: the same seed gives the same points")


def toy_options(n_classes: tuple[int, int, int] | None = None) -> list[Param]:
    """n_samples, noise, test_ratio, seed (+ n_classes (default, min, max) for multi-class sets)."""
    opts = [
        Param("n_samples", "int", 500, 10, MAX_SAMPLES, help="number of points (train + test)"),
        Param("noise", "float", 0.0, 0.0, 1.0, help=NOISE_HELP),
        Param("test_ratio", "float", 0.5, 0.1, 0.9, help="fraction of the points held out as the test set"),
        seed_param(),
    ]
    if n_classes is not None:
        default, lo, hi = n_classes
        opts.append(Param("n_classes", "int", default, lo, hi, help="number of classes"))
    return opts


def split_points(points: np.ndarray, targets: np.ndarray, test_ratio: float,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle, then hold out `test_ratio` of the rows: (p_train, y_train, p_test, y_test)."""
    n = len(points)
    order = rng.permutation(n)
    n_test = min(max(int(round(n * test_ratio)), 1), n - 1)
    test, train = order[:n_test], order[n_test:]
    return points[train], targets[train], points[test], targets[test]
