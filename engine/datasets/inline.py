"""Points given in the spec (painted in the UI, posted by a script) or uploaded as CSV text."""
from __future__ import annotations

import csv
import io

import numpy as np

from ..errors import DataError, SpecError
from ..params import Param
from .base import Dataset, register_dataset, seed_param, split_points
from .features import DEFAULT_FEATURES, apply_features, check_features

MAX_INLINE_POINTS = 10_000        # rows, train + test
MAX_INLINE_VALUES = 1_000_000     # rows * columns
MAX_INLINE_CLASSES = 100
MAX_CSV_CHARS = 2_000_000
DOMAIN_MARGIN = 0.1               # fraction of the points' span added on each side

INLINE_OPTIONS = [
    Param("task", "choice", None, choices=("classification", "regression"), nullable=True,
          help="null: whole-number labels -> classification, anything else -> regression"),
    Param("n_classes", "int", None, 2, MAX_INLINE_CLASSES, nullable=True,
          help="number of classes (null: largest label + 1, at least 2)"),
    Param("test_ratio", "float", 0.0, 0.0, 0.9,
          help="hold out this fraction as the test set when no test_x / test_y are given"),
    seed_param(),
]


@register_dataset("inline", "points given in the spec: {\"x\": [[x1, x2], ...], \"y\": [labels], \"test_x\"?, "
                            "\"test_y\"?, \"domain\"?} or {\"csv\": \"x1,x2,label\\n...\"}; used as given, no scaling, no noise",
                  INLINE_OPTIONS, kind="inline", extra_keys=("x", "y", "test_x", "test_y", "csv", "domain"))
def inline(options: dict, spec: dict, features) -> Dataset:
    x, y, x_test, y_test = _inline_arrays(spec)
    if len(x) + (0 if x_test is None else len(x_test)) > MAX_INLINE_POINTS:
        raise SpecError(f"too many points: at most {MAX_INLINE_POINTS} in train + test", "dataset.x")
    task = options["task"] or ("classification" if _whole(y) and (y_test is None or _whole(y_test)) else "regression")
    y = _targets(y, task, "dataset.y")
    y_test = None if y_test is None else _targets(y_test, task, "dataset.test_y")
    n_classes = _n_classes(options["n_classes"], y, y_test) if task == "classification" else None
    if x_test is None and options["test_ratio"] > 0:
        if len(x) < 2:
            raise SpecError("needs at least 2 points to hold out a test set", "dataset.test_ratio")
        x, y, x_test, y_test = split_points(x, y, options["test_ratio"], np.random.default_rng(options["seed"]))
    return _build(x, y, x_test, y_test, task, n_classes, features, spec.get("domain"))


def _build(x, y, x_test, y_test, task, n_classes, features, domain=None) -> Dataset:
    two_d = x.shape[1] == 2
    if not two_d and features not in (None, DEFAULT_FEATURES):
        raise SpecError("features only apply to 2-column data", "dataset.features")
    features = check_features(features) if two_d else None

    def design(p):
        return None if p is None else (apply_features(p, features) if two_d else p)
    points_all = x if x_test is None else np.concatenate([x, x_test])
    return Dataset(
        name="inline", x_train=design(x), y_train=y, x_test=design(x_test), y_test=y_test, task=task,
        n_classes=n_classes, class_names=None if n_classes is None else [str(k) for k in range(n_classes)],
        input_shape=(len(features),) if two_d else (x.shape[1],),
        domain=(_check_domain(domain) if domain is not None else domain_for(points_all)) if two_d else None,
        features=features,
        points_train=x if two_d else None, points_test=x_test if two_d else None)


def _inline_arrays(spec: dict):
    if spec.get("csv") is not None:
        if spec.get("x") is not None:
            raise SpecError("give either csv or x / y, not both", "dataset.csv")
        if not isinstance(spec["csv"], str):
            raise SpecError("must be the CSV text (header x1,x2,label)", "dataset.csv")
        try:
            x, y = parse_csv(spec["csv"], MAX_INLINE_POINTS)
        except DataError as e:
            raise SpecError(str(e), "dataset.csv") from None
    else:
        x, y = _matrix(spec.get("x"), "dataset.x"), _vector(spec.get("y"), "dataset.y")
    _same_length(x, y, "dataset.y")
    has_tx, has_ty = spec.get("test_x") is not None, spec.get("test_y") is not None
    if has_tx != has_ty:
        raise SpecError("test_x and test_y must be given together", "dataset.test_x" if has_ty else "dataset.test_y")
    if not has_tx:
        return x, y, None, None
    x_test, y_test = _matrix(spec["test_x"], "dataset.test_x"), _vector(spec["test_y"], "dataset.test_y")
    _same_length(x_test, y_test, "dataset.test_y")
    if x_test.shape[1] != x.shape[1]:
        raise SpecError(f"rows must have {x.shape[1]} values like x, got {x_test.shape[1]}", "dataset.test_x")
    return x, y, x_test, y_test


def _matrix(value, path: str) -> np.ndarray:
    """A non-empty list of equal-length rows of finite numbers -> float32 (N, D); a flat list -> (N, 1)."""
    if not isinstance(value, (list, tuple)) or not value:
        raise SpecError("must be a non-empty list of rows, e.g. [[0.5, -1.2], [1.0, 2.0]]", path)
    if len(value) > MAX_INLINE_POINTS:
        raise SpecError(f"too many points: {len(value)}, at most {MAX_INLINE_POINTS}", path)
    a = _numbers(value, path)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[1] == 0:
        raise SpecError("must be a list of rows of numbers", path)
    if a.size > MAX_INLINE_VALUES:
        raise SpecError(f"too many values: {a.size}, at most {MAX_INLINE_VALUES}", path)
    return a.astype(np.float32)


def _vector(value, path: str) -> np.ndarray:
    """Labels or targets: a list of numbers (N,) or, for multi-output regression, rows (N, K)."""
    if not isinstance(value, (list, tuple)) or not value:
        raise SpecError("must be a non-empty list of labels", path)
    a = _numbers(value, path)
    if a.ndim > 2:
        raise SpecError("must be a list of numbers", path)
    return a


def _numbers(value, path: str) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise SpecError("must contain only numbers, in rows of equal length", path) from None
    if not np.all(np.isfinite(a)):
        bad = np.argwhere(~np.isfinite(a))[0]
        raise SpecError(f"must be finite numbers; row {int(bad[0])} has {a[tuple(bad)]}", path)
    return a


def _same_length(x: np.ndarray, y: np.ndarray, path: str) -> None:
    if len(x) != len(y):
        raise SpecError(f"has {len(y)} labels for {len(x)} points", path)


def _whole(y: np.ndarray) -> bool:
    return y.ndim == 1 and bool(np.all(y == np.round(y)))


def _targets(y: np.ndarray, task: str, path: str) -> np.ndarray:
    if task == "regression":
        return y.astype(np.float32).reshape(len(y), -1)                  # (N, K)
    if not _whole(y) or np.any(y < 0):
        raise SpecError("classification labels must be whole numbers 0, 1, 2, ...; "
                        "set \"task\": \"regression\" for real-valued targets", path)
    if y.max() >= MAX_INLINE_CLASSES:
        raise SpecError(f"labels must be below {MAX_INLINE_CLASSES}, got {int(y.max())}", path)
    return y.astype(np.int64)


def _n_classes(given: int | None, y: np.ndarray, y_test: np.ndarray | None) -> int:
    largest = int(max(y.max(), -1 if y_test is None else y_test.max()))
    if given is not None and largest >= given:
        raise SpecError(f"is {given} but a label is {largest}; labels must be below n_classes", "dataset.n_classes")
    return given if given is not None else max(largest + 1, 2)


def _check_domain(domain) -> list[list[float]]:
    """A given plotting domain (painted points keep the canvas they were painted on)."""
    try:
        d = np.asarray(domain, dtype=np.float64)
    except (ValueError, TypeError):
        d = np.zeros(0)
    if d.shape != (2, 2) or not np.all(np.isfinite(d)) or not np.all(d[:, 0] < d[:, 1]):
        raise SpecError("must be [[xmin, xmax], [ymin, ymax]] with min < max", "dataset.domain")
    return d.tolist()


def domain_for(points: np.ndarray) -> list[list[float]]:
    """[[xmin, xmax], [ymin, ymax]] around (N, 2) points, with a margin so the boundary has room."""
    lo, hi = points.min(axis=0).astype(np.float64), points.max(axis=0).astype(np.float64)
    margin = np.maximum((hi - lo) * DOMAIN_MARGIN, 0.5)
    return [[float(lo[i] - margin[i]), float(hi[i] + margin[i])] for i in range(2)]


def parse_csv(text: str, max_rows: int = MAX_INLINE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """CSV text with the header x1,x2,label (or x1,...,xk,label) -> (points float32 (N, k), labels (N,)).

    Labels are int64 when every label is a whole number, else float32. Errors are DataError naming the line.
    """
    if not isinstance(text, str):
        raise DataError("CSV must be text")
    if len(text) > MAX_CSV_CHARS:
        raise DataError(f"CSV is too large: {len(text)} characters, at most {MAX_CSV_CHARS}")
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header, width, values = None, 0, []
    for line_no, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue                                                     # blank line
        if header is None:
            header, width = _check_header(cells, line_no), len(cells)
            continue
        if len(cells) != width:
            raise DataError(f"line {line_no}: expected {width} values ({','.join(header)}), got {len(cells)}")
        if len(values) >= max_rows:
            raise DataError(f"line {line_no}: too many rows, at most {max_rows}")
        values.append(_parse_row(cells, header, line_no))
    if header is None:
        raise DataError("CSV is empty: expected a header line x1,x2,label")
    if not values:
        raise DataError("CSV has a header but no data rows")
    data = np.array(values, dtype=np.float64)                            # (N, k + 1)
    points, labels = data[:, :-1].astype(np.float32), data[:, -1]
    labels = labels.astype(np.int64) if np.all(labels == np.round(labels)) else labels.astype(np.float32)
    return points, labels


def _check_header(cells: list[str], line_no: int) -> list[str]:
    names = [c.lower() for c in cells]
    k = len(names) - 1
    if k < 1 or names != [f"x{i + 1}" for i in range(k)] + ["label"]:
        raise DataError(f"line {line_no}: header must be x1,x2,label (or x1,...,xk,label), got {','.join(cells)}")
    return names


def _parse_row(cells: list[str], header: list[str], line_no: int) -> list[float]:
    out = []
    for name, cell in zip(header, cells):
        try:
            v = float(cell)
        except ValueError:
            raise DataError(f"line {line_no}: {name} is not a number: {cell!r}") from None
        if not np.isfinite(v):
            raise DataError(f"line {line_no}: {name} must be a finite number, got {cell!r}")
        out.append(v)
    return out
