"""Points given in the spec (painted in the UI, posted by a script) or uploaded as CSV text.

Rows may have any width: 2-column rows are points in a plane (the 2-D features apply and the UI can draw
a decision boundary), other widths are the model's inputs as given. Targets are one label per row
(classification) or numbers / rows of numbers (regression; a row of K values trains K output units).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError, SpecError
from ..limits import DEFAULT_LIMITS
from ..params import Param
from .base import DATASETS, Dataset, seed_param, split_points
from .csvtext import parse_csv
from .features import DEFAULT_FEATURES, apply_features, check_features

MAX_INLINE_POINTS = DEFAULT_LIMITS.max_inline_points    # rows, train + test
MAX_INLINE_VALUES = DEFAULT_LIMITS.max_inline_values    # rows * columns
MAX_INLINE_CLASSES = DEFAULT_LIMITS.max_inline_classes
DOMAIN_MARGIN = 0.1               # fraction of the points' span added on each side

INLINE_OPTIONS = [
    Param("task", "choice", None, choices=("classification", "regression"), nullable=True,
          help="null: whole-number labels -> classification, anything else (or rows of targets) -> regression"),
    Param("n_classes", "int", None, 2, MAX_INLINE_CLASSES, nullable=True,
          help="number of classes (null: largest label + 1, at least 2)"),
    Param("test_ratio", "float", 0.0, 0.0, 0.9,
          help="hold out this fraction as the test set when no test_x / test_y are given"),
    seed_param(),
]


@DATASETS.register("inline",
                   doc="data given in the spec: {\"x\": [[x1, x2], ...] (rows of any width), \"y\": [labels] or "
                       "[[targets...]], \"test_x\"?, \"test_y\"?, \"domain\"?} or "
                       "{\"csv\": \"name1,...,namek,label\\n...\"} (last column = label); used as given, "
                       "no scaling, no noise",
                   params=INLINE_OPTIONS, kind="inline", extra_keys=("x", "y", "test_x", "test_y", "csv", "domain"))
def inline(options: dict, spec: dict, features) -> Dataset:
    data = _inline_arrays(spec)
    x, x_test = data.x, data.x_test
    if len(x) + (0 if x_test is None else len(x_test)) > MAX_INLINE_POINTS:
        raise SpecError(f"too many points: at most {MAX_INLINE_POINTS} in train + test", "dataset.x")
    task = _task(options["task"], data)
    y = _targets(data.y, task, "dataset.y")
    y_test = None if data.y_test is None else _targets(data.y_test, task, "dataset.test_y")
    if y_test is not None and task == "regression" and y_test.shape[1] != y.shape[1]:
        raise SpecError(f"rows must have {y.shape[1]} target values like y, got {y_test.shape[1]}", "dataset.test_y")
    n_classes = _n_classes(options["n_classes"], y, y_test, data.class_names) if task == "classification" else None
    if x_test is None and options["test_ratio"] > 0:
        if len(x) < 2:
            raise SpecError("needs at least 2 points to hold out a test set", "dataset.test_ratio")
        x, y, x_test, y_test = split_points(x, y, options["test_ratio"], np.random.default_rng(options["seed"]))
    names = data.class_names or []
    class_names = None if n_classes is None else names + [str(k) for k in range(len(names), n_classes)]
    return _build(x, y, x_test, y_test, task, n_classes, features, spec.get("domain"), data.input_names,
                  class_names)


def _build(x, y, x_test, y_test, task, n_classes, features, domain, input_names, class_names) -> Dataset:
    # the 2-D feature transform is for points in a plane; wider (or 1-column) rows are the inputs as they are
    two_d = x.shape[1] == 2
    if not two_d and features not in (None, DEFAULT_FEATURES):
        raise SpecError(f"features apply to 2-column point data only; these rows have {x.shape[1]} columns, "
                        "which are the inputs as given", "dataset.features")
    if not two_d and domain is not None:
        raise SpecError(f"a plotting domain applies to 2-column point data only; these rows have {x.shape[1]} "
                        "columns", "dataset.domain")
    features = check_features(features) if two_d else None

    def design(p):
        return None if p is None else (apply_features(p, features) if two_d else p)
    points_all = x if x_test is None else np.concatenate([x, x_test])
    return Dataset(
        name="inline", x_train=design(x), y_train=y, x_test=design(x_test), y_test=y_test, task=task,
        n_classes=n_classes, class_names=class_names,
        input_shape=(len(features),) if two_d else (x.shape[1],),
        domain=(_check_domain(domain) if domain is not None else domain_for(points_all)) if two_d else None,
        features=features, input_names=input_names,
        points_train=x if two_d else None, points_test=x_test if two_d else None)


@dataclass
class InlineData:
    """Arrays as given: x (N, D) float32, y (N,) or (N, K) float64 (or int64 class indices from CSV names)."""
    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    input_names: list[str] | None = None
    class_names: list[str] | None = None   # CSV label column of names: y holds indices into it


def _inline_arrays(spec: dict) -> InlineData:
    if spec.get("csv") is not None:
        if spec.get("x") is not None or spec.get("y") is not None:
            raise SpecError("give either csv or x / y, not both", "dataset.csv")
        if not isinstance(spec["csv"], str):
            raise SpecError("must be the CSV text: a header line (feature names..., label), then one row per example",
                            "dataset.csv")
        try:
            table = parse_csv(spec["csv"], MAX_INLINE_POINTS, MAX_INLINE_CLASSES)
        except DataError as e:
            raise SpecError(str(e), "dataset.csv") from None
        data = InlineData(table.points, table.labels, input_names=table.input_names, class_names=table.class_names)
    else:
        x, y = _matrix(spec.get("x"), "dataset.x"), _vector(spec.get("y"), "dataset.y")
        data = InlineData(x, y, input_names=[f"x{i + 1}" for i in range(x.shape[1])])
    _same_length(data.x, data.y, "dataset.y")
    has_tx, has_ty = spec.get("test_x") is not None, spec.get("test_y") is not None
    if has_tx != has_ty:
        raise SpecError("test_x and test_y must be given together", "dataset.test_x" if has_ty else "dataset.test_y")
    if has_tx:
        data.x_test, data.y_test = _matrix(spec["test_x"], "dataset.test_x"), _vector(spec["test_y"], "dataset.test_y")
        _same_length(data.x_test, data.y_test, "dataset.test_y")
        if data.x_test.shape[1] != data.x.shape[1]:
            raise SpecError(f"rows must have {data.x.shape[1]} values like x, got {data.x_test.shape[1]}",
                            "dataset.test_x")
    return data


def _matrix(value, path: str) -> np.ndarray:
    """A non-empty list of equal-length rows of finite numbers -> float32 (N, D); a flat list -> (N, 1)."""
    if not _is_rows(value):
        raise SpecError("must be a non-empty list of rows, e.g. [[0.5, -1.2], [1.0, 2.0]]", path)
    if len(value) > MAX_INLINE_POINTS:
        raise SpecError(f"too many points: {len(value)}, at most {MAX_INLINE_POINTS}", path)
    if not isinstance(value, np.ndarray) and _count_values(value) > MAX_INLINE_VALUES:  # before any array
        raise SpecError(f"too many values: {_count_values(value)}, at most {MAX_INLINE_VALUES}", path)
    a = _numbers(value, path)
    if a.ndim == 1:
        a = a[:, None]
    if a.shape[1] == 0:
        raise SpecError("rows must not be empty", path)
    if a.size > MAX_INLINE_VALUES:
        raise SpecError(f"too many values: {a.size}, at most {MAX_INLINE_VALUES}", path)
    return a.astype(np.float32)


def _vector(value, path: str) -> np.ndarray:
    """Labels or targets: a list of numbers (N,) or, for multi-output regression, rows (N, K)."""
    if not _is_rows(value):
        raise SpecError("must be a non-empty list: one label (or one row of target values) per point", path)
    a = _numbers(value, path)
    if a.ndim == 2 and a.shape[1] == 0:
        raise SpecError("rows of target values must not be empty", path)
    return a


def _is_rows(value) -> bool:
    return (isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim >= 1)) and len(value) > 0


NUMBER_TYPES = (int, float)
ROW_TYPES = (list, tuple, np.ndarray)   # a row of values (JSON gives lists; Python callers may pass arrays)


def _numbers(value, path: str) -> np.ndarray:
    """Rows of numbers (or a flat list of numbers) -> float64 (N, D) or (N,). Strings, booleans, null,
    nested lists and ragged rows are refused, never coerced; the path names the first bad row."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "iuf" or value.ndim > 2:
            raise SpecError(f"must be numbers in at most 2 dimensions, got a {value.dtype} array of shape "
                            f"{list(value.shape)}", path)
        a = value.astype(np.float64)
    else:
        # fast path: every element an int or float (what JSON gives); else find the first bad one
        types: set = set()
        for row in value:
            if isinstance(row, ROW_TYPES):
                types.update(map(type, row))
            else:
                types.add(type(row))
        if not (types <= set(NUMBER_TYPES) and _rectangular(value)):
            bad = _first_bad(value, path)
            if bad is not None:
                raise SpecError(*bad)
        a = _array(value)
    if not np.all(np.isfinite(a)):
        bad = np.argwhere(~np.isfinite(a))[0]
        raise SpecError(f"must be finite numbers; row {int(bad[0])} has {a[tuple(bad)]}", f"{path}.{int(bad[0])}")
    return a


ARRAY_PIECE = 10_000   # values per np.array call: one call holds the GIL, a server's event loop waits for it


def _array(rows: list) -> np.ndarray:
    """np.array(rows, float64) built a slice of rows at a time (checked rectangular lists of numbers)."""
    width = len(rows[0]) if isinstance(rows[0], ROW_TYPES) else 1
    step = max(1, ARRAY_PIECE // max(1, width))
    if len(rows) <= step:
        return np.array(rows, dtype=np.float64)
    return np.concatenate([np.array(rows[i:i + step], dtype=np.float64) for i in range(0, len(rows), step)])


def _rectangular(value) -> bool:
    """All rows lists of the same length, or all rows plain numbers."""
    first = value[0]
    if isinstance(first, ROW_TYPES):
        width = len(first)
        return all(isinstance(r, ROW_TYPES) and len(r) == width for r in value)
    return not any(isinstance(r, ROW_TYPES) for r in value)


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _describe(v) -> str:
    return "null" if v is None else f"{v!r} ({type(v).__name__})"


def _first_bad(value, path: str) -> tuple[str, str] | None:
    """(message, path of the row) for the first row that is not like row 0 or holds a non-number."""
    first = value[0]
    width = len(first) if isinstance(first, ROW_TYPES) else None
    for i, row in enumerate(value):
        if width is None:
            if isinstance(row, ROW_TYPES):
                return f"row {i} is a list but row 0 is a single number; give every row the same form", f"{path}.{i}"
            if not _is_number(row):
                return f"row {i} is {_describe(row)}, not a number", f"{path}.{i}"
            continue
        if not isinstance(row, ROW_TYPES):
            return f"row {i} is {_describe(row)}, not a list of {width} numbers like row 0", f"{path}.{i}"
        if len(row) != width:
            return f"row {i} has {len(row)} values but row 0 has {width}; rows must be equally long", f"{path}.{i}"
        for j, v in enumerate(row):
            if not _is_number(v):
                return f"row {i}, value {j} is {_describe(v)}, not a number", f"{path}.{i}"
    return None


def _same_length(x: np.ndarray, y: np.ndarray, path: str) -> None:
    if len(x) != len(y):
        raise SpecError(f"has {len(y)} labels for {len(x)} points", path)


def _whole(y: np.ndarray) -> bool:
    return y.ndim == 1 and bool(np.all(y == np.round(y)))


def _task(given: str | None, data: InlineData) -> str:
    if data.class_names is not None:
        if given == "regression":
            raise SpecError("the CSV label column holds class names, which need \"classification\"", "dataset.task")
        return "classification"
    return given or ("classification" if _whole(data.y) and (data.y_test is None or _whole(data.y_test))
                     else "regression")


def _targets(y: np.ndarray, task: str, path: str) -> np.ndarray:
    if task == "regression":
        return y.astype(np.float32).reshape(len(y), -1)                  # (N, K)
    if y.ndim != 1:
        raise SpecError("classification needs one label per point, not rows of values "
                        "(rows of values are regression targets: set \"task\": \"regression\" or leave it null)", path)
    if not _whole(y) or np.any(y < 0):
        raise SpecError("classification labels must be whole numbers 0, 1, 2, ...; "
                        "set \"task\": \"regression\" for real-valued targets", path)
    if y.max() >= MAX_INLINE_CLASSES:
        raise SpecError(f"labels must be below {MAX_INLINE_CLASSES}, got {int(y.max())}", path)
    return y.astype(np.int64)


def _n_classes(given: int | None, y: np.ndarray, y_test: np.ndarray | None, names: list[str] | None) -> int:
    largest = int(max(y.max(), -1 if y_test is None else y_test.max()))
    if names is not None:
        largest = max(largest, len(names) - 1)
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


# a job's answer (GET /api/jobs/{id}, the create and cancel answers, the list) repeats inline data only up to
# this many values: painted points (at most max_inline_points rows of 2) come back whole, while megabytes of
# uploaded rows are summarised (echoing 5 MB per answer cost 0.5 s of JSON encoding); the stored spec keeps them
ECHO_VALUES = 20_000
DATA_KEYS = ("x", "y", "test_x", "test_y")


def inline_summary(dataset: dict, max_values: int = ECHO_VALUES) -> dict:
    """`dataset` (a normalized inline dataset spec) as an answer shows it: when its x, y, test_x and test_y
    hold more than `max_values` numbers in all, each is replaced by {"omitted": true, "rows": N,
    "values": V}; other keys (csv text, options, domain) are kept. Not inline, or small: returned as is."""
    if dataset.get("name") != "inline":
        return dataset
    counts = {k: _count_values(dataset[k]) for k in DATA_KEYS if isinstance(dataset.get(k), (list, tuple))}
    if sum(counts.values()) <= max_values:
        return dataset
    return {**dataset, **{k: {"omitted": True, "rows": len(dataset[k]), "values": n} for k, n in counts.items()}}


def _count_values(rows) -> int:
    return sum(len(r) if isinstance(r, (list, tuple)) else 1 for r in rows)
