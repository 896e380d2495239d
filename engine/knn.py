"""k-nearest neighbours: the classifier with no training and slow prediction (the lectures' first baseline).

Spec: `"model": {"type": "knn", "k": 5, "metric": "l1" | "l2"}` in place of `layers`. `engine.train` "fits"
it by storing the preprocessed training set; a prediction is the vote of the k nearest training rows,
returned as class fractions (N, K), so `Model.predict_proba` / `predict_labels` and the decision boundary
read it as any softmax output (ties go to the smallest label, as scikit-learn's). Distances are batched
matrices: L2 as |a|^2 + |b|^2 - 2 a.b (one matmul per block of query rows), L1 by broadcasting blocks of
query x train rows. `limits.max_knn_pairs` caps training rows x evaluated rows (test + validation).
"""
from __future__ import annotations

import math
import time

import numpy as np

from .errors import Problem, SpecError
from .losses import make_loss
from .params import Param, resolve_params
from .pipeline import InputPipeline

KNN_TYPE = "knn"
KNN_OPTIONS = [
    Param("k", "int", 5, 1, 1000, help="neighbours that vote"),
    Param("metric", "choice", "l2", choices=("l1", "l2"),
          help="l1: sum of |differences| (Manhattan); l2: Euclidean distance"),
]
KEYS = ("type", "input_shape", "dtype", *(p.name for p in KNN_OPTIONS))
BLOCK_VALUES = 4_000_000       # elements of one distance block (L2: rows x n_train; L1: rows x train rows x D)


def is_knn(model_spec) -> bool:
    return isinstance(model_spec, dict) and model_spec.get("type") == KNN_TYPE


def normalize_knn_spec(spec: dict, input_shape=None) -> dict:
    """{"type": "knn", "k", "metric", "input_shape", "dtype"}; SpecError naming `model.<key>`."""
    from .model import DTYPES
    problems = [Problem(f"model.{key}", f"unknown key for a knn model; allowed: {', '.join(KEYS)}")
                for key in spec if key not in KEYS]
    out = {"type": KNN_TYPE}
    try:
        out.update(resolve_params(KNN_OPTIONS, {k: v for k, v in spec.items() if k in ("k", "metric")}, "model"))
    except SpecError as e:
        problems.extend(e.problems)
    out["dtype"] = spec.get("dtype", "float32")
    if out["dtype"] not in DTYPES:
        problems.append(Problem("model.dtype", f"must be one of {', '.join(DTYPES)}, got {out['dtype']!r}"))
    shape = spec.get("input_shape", input_shape)
    if not isinstance(shape, (list, tuple)) or not shape or not all(isinstance(d, int) and d > 0 for d in shape):
        problems.append(Problem("model.input_shape", f"must be a list of positive sizes, got {shape!r}"))
    else:
        out["input_shape"] = list(shape)
    if problems:
        raise SpecError(problems)
    return out


def k_range(n_train: int | None) -> tuple[int, int]:
    """(smallest, largest) k a dataset with n_train training rows allows (the option's range, capped by the rows):
    what the playground's k slider spans."""
    k = KNN_OPTIONS[0]
    return k.min, min(k.max, n_train) if n_train else k.max


def knn_row(model: dict, n_classes: int | None, n_train: int | None = None) -> dict:
    """The one summary row of a k-NN model (fitted or not): no layers, no parameters; output (n_classes,);
    `k_range` [min, max] for the data's training rows."""
    return {"index": 0, "type": KNN_TYPE, "text": f"knn k={model['k']} {model['metric']}",
            "output_shape": [n_classes] if n_classes is not None else None, "params": 0,
            "k_range": list(k_range(n_train))}


def knn_problems(model: dict, facts, limits) -> list[Problem]:
    """What only the data rules out: a task other than classification, k above the training rows, and
    training rows x evaluated rows above limits.max_knn_pairs."""
    if facts.task != "classification":
        return [Problem("model.type", f"knn classifies; this dataset is a {facts.task} task")]
    problems = []
    if facts.n_train is not None and model["k"] > k_range(facts.n_train)[1]:
        problems.append(Problem("model.k", f"must be at most the {facts.n_train} training rows, got {model['k']}"))
    n_train, n_eval = facts.n_train_max, facts.n_eval
    if n_train is not None and n_eval is not None and n_train * n_eval > limits.max_knn_pairs:
        problems.append(Problem("dataset", f"knn compares every evaluated row with every training row: "
                                           f"{n_train:,} x {n_eval:,} = {n_train * n_eval:,} distances, more than "
                                           f"max_knn_pairs ({limits.max_knn_pairs:,}); use fewer rows "
                                           "(dataset.limit / n_samples)"))
    return problems


def _l2_block(q: np.ndarray, x: np.ndarray, x_sq: np.ndarray) -> np.ndarray:
    # (B, D), (N, D) -> (B, N) squared distances; clipped at 0 against rounding
    d = (q * q).sum(axis=1, keepdims=True) + x_sq[None, :] - 2.0 * (q @ x.T)
    return np.maximum(d, 0, out=d)


def _l1_block(q: np.ndarray, x: np.ndarray) -> np.ndarray:
    # (B, D), (N, D) -> (B, N), in blocks of train rows so (B, n, D) stays under BLOCK_VALUES
    n_rows = max(1, BLOCK_VALUES // max(1, q.shape[0] * q.shape[1]))
    return np.concatenate([np.abs(q[:, None, :] - x[None, j:j + n_rows, :]).sum(axis=2)
                           for j in range(0, len(x), n_rows)], axis=1)


class KNNModel:
    """Model-like: predict / predict_proba / predict_labels / forward_batched / save, no layers or weights."""

    def __init__(self, spec: dict, pipeline: InputPipeline | None = None):
        self.spec = spec
        self.k, self.metric = spec["k"], spec["metric"]
        self.dtype = np.dtype(spec["dtype"])
        self.input_shape = tuple(spec["input_shape"])
        self.pipeline = pipeline or InputPipeline()
        # outputs are vote fractions: read as a softmax output (probabilities as they are, labels = argmax)
        self.loss = make_loss("categorical_crossentropy", final_activation="softmax")
        self.task, self.class_names = "classification", None
        self.layers, self.params, self.state, self.grads, self.frozen = [], {}, {}, {}, []
        self.flat = self.optimizer = self.optimizer_state = self.between_layers = None
        self.x = np.zeros((0, math.prod(self.input_shape)), dtype=self.dtype)   # (N, D) stored training rows
        self.y = np.zeros(0, dtype=np.int64)
        self.n_classes = 2
        self.fit_seconds = 0.0

    @property
    def output_shape(self) -> tuple:
        return (self.n_classes,)

    @property
    def is_classifier(self) -> bool:
        return True

    def fit(self, x: np.ndarray, y: np.ndarray, n_classes: int) -> "KNNModel":
        """Store preprocessed rows x (N, ...) and labels y (N,)."""
        self.x = np.ascontiguousarray(x.reshape(len(x), -1), dtype=self.dtype)
        self.y = np.asarray(y, dtype=np.int64).reshape(-1)
        self.n_classes = int(n_classes)
        self._x_sq = (self.x.astype(np.float64) ** 2).sum(axis=1).astype(self.dtype)   # (N,)
        return self

    def neighbours(self, q: np.ndarray) -> np.ndarray:
        """(B, k) indexes of the k nearest stored rows of each query row (B, D), in no particular order."""
        d = _l2_block(q, self.x, self._x_sq) if self.metric == "l2" else _l1_block(q, self.x)   # (B, N)
        k = min(self.k, len(self.x))
        return np.argpartition(d, k - 1, axis=1)[:, :k] if k < d.shape[1] else np.broadcast_to(
            np.arange(d.shape[1]), d.shape)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """(B, ...) preprocessed rows -> (B, K) fractions of the k neighbours' votes per class."""
        q = np.asarray(x, dtype=self.dtype).reshape(len(x), -1)
        votes = self.y[self.neighbours(q)]                                            # (B, k) labels
        counts = (votes[:, :, None] == np.arange(self.n_classes)).sum(axis=1)         # (B, K)
        return (counts / votes.shape[1]).astype(self.dtype)

    def forward_batched(self, x: np.ndarray, batch: int | None = None) -> np.ndarray:
        per_row = len(self.x) * (1 if self.metric == "l2" else max(1, self.x.shape[1]))
        rows = batch or max(1, min(4096, BLOCK_VALUES // max(1, per_row)))
        if len(x) == 0:
            return np.zeros((0, self.n_classes), dtype=self.dtype)
        return np.concatenate([self.forward(x[i:i + rows]) for i in range(0, len(x), rows)])

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = self.pipeline.transform(np.asarray(x, dtype=np.float64)).astype(self.dtype, copy=False)
        return self.forward_batched(x)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.loss.probabilities(self.predict(x))

    def predict_labels(self, x: np.ndarray) -> np.ndarray:
        return self.loss.labels(self.predict(x))

    def n_params(self) -> int:
        return 0

    def get_weights(self) -> dict:
        return {}

    def set_weights(self, weights: dict) -> None:
        if weights:
            raise SpecError("a knn model has no weights", "weights")

    def summary(self) -> list[dict]:
        return [knn_row({"k": self.k, "metric": self.metric}, self.n_classes, len(self.x))]

    def summary_text(self) -> str:
        return f"knn k={self.k} {self.metric}: {len(self.x):,} stored rows of {self.x.shape[1]} values"

    def save(self, path) -> None:
        """One .npz like Model.save: the stored rows and labels as arrays, the spec as JSON (no pickle)."""
        import io
        import json

        from .model import _atomic_write
        pipe_config, pipe_arrays = self.pipeline.to_saved()
        arrays = {"knn/x": self.x, "knn/y": self.y, **{f"pipeline/{k}": v for k, v in pipe_arrays.items()}}
        meta = {"format": "nnplay-model", "version": 1, "spec": self.spec, "pipeline": pipe_config,
                "task": self.task, "class_names": self.class_names, "optimizer": None, "n_classes": self.n_classes}
        arrays["meta_json"] = np.array(json.dumps(meta))
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        _atomic_write(path, buf.getvalue())


def knn_from_file(meta: dict, data, limits) -> KNNModel:
    """The KNNModel a model file holds (its stored rows checked against the pair limit's train side)."""
    spec = normalize_knn_spec(meta["spec"])
    x, y = data["knn/x"], data["knn/y"]
    if x.ndim != 2 or y.shape != (len(x),) or x.shape[1] != math.prod(spec["input_shape"]):
        raise ValueError("stored rows do not match the declared input shape")
    if len(x) > limits.max_samples:
        raise ValueError(f"stores {len(x):,} rows, more than max_samples")
    pipe = {k[len("pipeline/"):]: data[k] for k in data.files if k.startswith("pipeline/")}
    model = KNNModel(spec, InputPipeline.from_saved(meta.get("pipeline"), pipe))
    model.fit(x, y, int(meta.get("n_classes") or (int(y.max()) + 1 if len(y) else 2)))
    model.class_names = meta.get("class_names")
    return model


def fitted_knn(spec: dict):
    """(model, dataset, splits) for a normalized knn spec: the training rows stored, as engine.train fits it
    (also what POST /api/models/preview draws: a fit costs no more than a copy of the rows)."""
    from .datasets import load_dataset
    from .trainer import _splits
    ds = load_dataset(spec["dataset"])
    model = KNNModel({**spec["model"], "input_shape": list(ds.input_shape)},
                     InputPipeline(ds.features, spec["dataset"].get("preprocessing")))
    model.class_names = ds.class_names
    splits = _splits(ds, model.pipeline, spec["training"]["validation_split"], model.dtype)
    start = time.perf_counter()
    model.fit(splits["train"].x, splits["train"].y, ds.n_classes)
    model.fit_seconds = time.perf_counter() - start      # the "training": a copy of the rows, not the data loading
    return model, ds, splits


def knn_scores(model: "KNNModel", splits: dict, names=("train", "val", "test"), timed: bool = False) -> dict:
    """{"{split}_loss", "{split}_accuracy"} (and with `timed` "{split}_seconds_per_prediction") of a fitted k-NN on
    the named splits it has. Its fit is the whole training, so these are its final scores; on the training rows
    each point votes for itself among its k nearest, which is why k = 1 scores (nearly) 100% there: only a point
    that shares its place with one of another class can miss."""
    from .metrics import accuracy
    scores = {}
    for name in names:
        if name in splits:
            s = splits[name]
            t0 = time.process_time()
            out = model.forward_batched(s.x)
            if timed:
                scores[f"{name}_seconds_per_prediction"] = (time.process_time() - t0) / max(1, len(s.x))
            scores[f"{name}_loss"] = model.loss.value(out, model.loss.targets(s.y, out))
            scores[f"{name}_accuracy"] = accuracy(model.loss.labels(out), s.y)
    return scores


def fit_knn(spec: dict, on_event=None, on_model=None) -> "TrainResult":  # noqa: F821  (engine.trainer's)
    """engine.train for a normalized knn spec: store the training rows, then one epoch record of test (and
    validation) loss and accuracy, with the seconds the fit and each prediction took (the lesson: no training,
    slow prediction), and the frames (the decision boundary on 2-D data)."""
    from .probes import Probes
    from .trainer import TrainResult
    emit = on_event or (lambda event: None)
    start = time.perf_counter()
    model, ds, splits = fitted_knn(spec)
    record = {"epoch": 1, "fit_seconds": model.fit_seconds, "load_seconds": time.perf_counter() - start - model.fit_seconds}
    if on_model is not None:
        on_model(model)
    probes = Probes(model, ds, spec["stream"])
    probes.emit(emit, 0, force=True)
    record.update(knn_scores(model, splits, ("val", "test"), timed=True))
    record["seconds"] = time.perf_counter() - start
    emit({"type": "epoch", **record})
    probes.emit(emit, 1, force=True)
    return TrainResult(model, history=[record], dataset=ds.summary(),
                       message=f"stored {len(model.x):,} training rows (k = {model.k}, {model.metric})")
