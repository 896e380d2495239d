"""CSV text for the inline dataset: any feature columns, the label or target last, errors naming the line."""
from __future__ import annotations

import csv
import io
from typing import NamedTuple

import numpy as np

from ..errors import DataError
from ..limits import DEFAULT_LIMITS

MAX_CSV_CHARS = DEFAULT_LIMITS.max_csv_chars


class CsvTable(NamedTuple):
    points: np.ndarray              # float32 (N, k)
    labels: np.ndarray              # int64 (N,) (whole numbers or indices into class_names) or float32 (N,)
    input_names: list[str]          # the k feature column names (x1..xk without a header line)
    class_names: list[str] | None   # sorted label names when the label column holds names, else None


def parse_csv(text: str, max_rows: int | None = None, max_classes: int | None = None) -> CsvTable:
    """CSV text: an optional header line (any k >= 1 feature names, then the label's name), one row per
    example; the last column is the label or target. Without a header (first line all numbers) the
    columns are named x1..xk, label. A label column of names (setosa, versicolor, ...) gives classes
    numbered in sorted name order. `max_rows` / `max_classes` (None: no limit but the text size) are the
    caller's limits. Errors are DataError naming the line.
    """
    if not isinstance(text, str):
        raise DataError("CSV must be text")
    if len(text) > MAX_CSV_CHARS:
        raise DataError(f"CSV is too large: {len(text)} characters, at most {MAX_CSV_CHARS}")
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header, features, labels = None, [], []
    for line_no, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue                                                     # blank line
        if header is None:
            header = _header(cells, line_no)
            if header is not None:
                continue
            header = [f"x{i + 1}" for i in range(len(cells) - 1)] + ["label"]
        if len(cells) != len(header):
            raise DataError(f"line {line_no}: expected {len(header)} values ({','.join(header)}), got {len(cells)}")
        if max_rows is not None and len(features) >= max_rows:
            raise DataError(f"line {line_no}: too many rows, at most {max_rows}")
        features.append(_parse_row(cells[:-1], header, line_no))
        labels.append((line_no, cells[-1]))
    if header is None:
        raise DataError("CSV is empty: expected a header line like x1,x2,label and one row per example")
    if not features:
        raise DataError("CSV has a header but no data rows")
    points = np.array(features, dtype=np.float64).astype(np.float32)    # (N, k)
    values, class_names = _labels(labels, header[-1], max_classes)
    return CsvTable(points, values, header[:-1], class_names)


def _header(cells: list[str], line_no: int) -> list[str] | None:
    """The column names, or None when the first line is data (every cell a number)."""
    if all(_float(c) is not None for c in cells):
        if len(cells) < 2:
            raise DataError(f"line {line_no}: expected at least 2 columns (features..., label), got 1")
        return None
    if len(cells) < 2:
        raise DataError(f"line {line_no}: header needs at least 2 columns (feature names..., label), "
                        f"got {','.join(cells)}")
    if not all(cells):
        raise DataError(f"line {line_no}: header has an empty column name: {','.join(cells)}")
    if len({c.lower() for c in cells}) != len(cells):
        raise DataError(f"line {line_no}: header names a column twice: {','.join(cells)}")
    return cells


def _float(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _parse_row(cells: list[str], header: list[str], line_no: int) -> list[float]:
    out = []
    for name, cell in zip(header, cells):
        v = _float(cell)
        if v is None:
            raise DataError(f"line {line_no}: {name} is not a number: {cell!r}")
        if not np.isfinite(v):
            raise DataError(f"line {line_no}: {name} must be a finite number, got {cell!r}")
        out.append(v)
    return out


def _labels(lines: list[tuple[int, str]], name: str, max_classes: int | None) -> tuple[np.ndarray, list[str] | None]:
    """(line number, label cell) pairs -> (int64 (N,) if whole numbers else float32 (N,), None), or class
    indices and names when the first label is not a number (then every label is a name)."""
    cells = [cell for _, cell in lines]
    if _float(cells[0]) is None:
        names = sorted(set(cells))
        if max_classes is not None and len(names) > max_classes:
            raise DataError(f"{name} has {len(names)} different class names, at most {max_classes}")
        index = {n: i for i, n in enumerate(names)}
        return np.array([index[c] for c in cells], dtype=np.int64), names
    values = []
    for line_no, cell in lines:
        v = _float(cell)
        if v is None:
            raise DataError(f"line {line_no}: {name} is not a number: {cell!r} "
                            "(labels are all numbers or all class names)")
        if not np.isfinite(v):
            raise DataError(f"line {line_no}: {name} must be a finite number, got {cell!r}")
        values.append(v)
    a = np.array(values, dtype=np.float64)
    return (a.astype(np.int64), None) if np.all(a == np.round(a)) else (a.astype(np.float32), None)
