"""Stroke lists -> anti-aliased ink images, with a round pen whose width scales with the drawing.

A browser drawpad can send the polylines it recorded instead of pixels:
`[[[x, y], [x, y], ...], ...]` in canvas coordinates, or `{"strokes": [...], "width": W, "height": H}`.
The pen width the person used is ignored on purpose: the pen is `PEN_FRACTION` of the drawing's
longer side, so after `prepare_drawing` shrinks the longer side to 20 px the stroke is ~2 px wide,
like MNIST, whether the digit was drawn tiny or huge.

A stroke with a single point is drawn as a dot. A drawing whose points all coincide (one click)
has no extent and is rejected by `prepare_drawing` as empty.
"""
from __future__ import annotations

import math

import numpy as np

from .errors import DataError
from .limits import DEFAULT_LIMITS

PEN_FRACTION = 0.10      # pen diameter / longer side of the strokes' bounding box
GRID = 96                # raster size of the longer side (before the 20 px shrink)
MAX_POINTS = DEFAULT_LIMITS.max_stroke_points
MAX_STROKES = DEFAULT_LIMITS.max_strokes
MAX_COORD = DEFAULT_LIMITS.max_stroke_coordinate
MAX_LENGTH = DEFAULT_LIMITS.max_pen_travel
SEGMENT_CHUNK = 64       # segments per vectorised distance pass: (P, 64) floats at a time
CHUNK_SPAN = 16.0        # raster pixels a chunk's segments may spread over before a new chunk starts


def parse_strokes(drawing) -> list[np.ndarray]:
    """A stroke list (or {"strokes": [...], ...}) -> list of (K, 2) float64 arrays [x, y]."""
    strokes = drawing.get("strokes") if isinstance(drawing, dict) else drawing
    if not isinstance(strokes, (list, tuple)):
        raise DataError("strokes: expected a list of polylines, each a list of [x, y] points")
    if len(strokes) > MAX_STROKES:  # each stroke is drawn on its own pixels: the count bounds the work
        raise DataError(f"strokes: at most {MAX_STROKES} strokes per drawing are allowed, got {len(strokes)}")
    out, total = [], 0
    for i, stroke in enumerate(strokes):
        try:
            pts = np.asarray(stroke, dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError(f"strokes.{i}: expected a list of [x, y] number pairs") from None
        if pts.size == 0:
            continue
        if pts.ndim != 2 or pts.shape[1] != 2:
            raise DataError(f"strokes.{i}: expected a list of [x, y] points, got shape {list(pts.shape)}")
        if not np.isfinite(pts).all() or np.abs(pts).max() > MAX_COORD:
            raise DataError(f"strokes.{i}: coordinates must be finite numbers within ±{MAX_COORD:g}")
        total += len(pts)
        if total > MAX_POINTS:
            raise DataError(f"strokes: at most {MAX_POINTS} points per drawing are allowed")
        out.append(pts)
    return out


def stroke_segments(strokes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Polylines -> segment start and end points, both (S, 2); a one-point stroke is a zero-length segment."""
    starts = [p[:-1] if len(p) > 1 else p for p in strokes]
    ends = [p[1:] if len(p) > 1 else p for p in strokes]
    return np.concatenate(starts), np.concatenate(ends)


def rasterize_strokes(drawing, grid: int = GRID, pen_fraction: float = PEN_FRACTION) -> np.ndarray:
    """Draw the strokes; returns an ink image (H, W) float32 in [0, 1] covering the drawing plus the pen.

    Raises DataError when there is nothing to draw or all points coincide (no extent).
    """
    strokes = parse_strokes(drawing)
    if not strokes:
        raise DataError("the drawing is empty: the stroke list has no points; draw a digit")
    a, b = stroke_segments(strokes)                          # (S, 2) each, canvas units
    pts = np.concatenate([a, b])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    extent = float((hi - lo).max())
    if extent <= 0:
        raise DataError("the drawing is empty: all stroke points are at one spot (a single dot); draw a digit")
    length = float(np.hypot(*(b - a).T).sum()) / extent
    if length > MAX_LENGTH:
        raise DataError(f"strokes: the pen travels {length:.0f} times the drawing's size; at most {MAX_LENGTH:g} "
                        "is allowed for one digit")
    scale = (grid - 1) / extent                              # canvas units -> raster pixels
    radius = 0.5 * pen_fraction * grid
    pad = math.ceil(radius) + 1
    a = (a - lo) * scale + pad
    b = (b - lo) * scale + pad
    w, h = (np.ceil((hi - lo) * scale - 1e-6).astype(int) + 2 * pad + 1)  # tolerate rounding
    dist = np.full((h, w), np.inf)
    a, b = _split_long(a, b, CHUNK_SPAN)                     # a long segment inks only the pixels along it
    for s, e in _local_chunks(a, b):                         # chunks of segments, never pixels
        ca, cb = a[s:e], b[s:e]
        # the segments of a chunk lie close together: only the pixels near them can be inked by it
        (x0, y0), (x1, y1) = _pixel_window(np.concatenate([ca, cb]), radius + 1, w, h)
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64) + 0.5          # pixel centres of the window
        p = np.stack([xs.ravel(), ys.ravel()], axis=1)                    # (P, 2) as [x, y]
        d = _distance_to_segments(p, ca, cb).reshape(y1 - y0, x1 - x0)
        dist[y0:y1, x0:x1] = np.minimum(dist[y0:y1, x0:x1], d)
    ink = np.clip(radius + 0.5 - dist, 0.0, 1.0)            # 1 inside the pen, a 1 px soft edge
    return ink.astype(np.float32)


def _split_long(a: np.ndarray, b: np.ndarray, span: float) -> tuple[np.ndarray, np.ndarray]:
    """Segments a -> b (S, 2) cut into pieces of at most `span` pixels (S', 2): the same ink, smaller windows."""
    n = np.maximum(1, np.ceil(np.hypot(*(b - a).T) / span)).astype(int)   # (S,) pieces per segment
    if (n == 1).all():
        return a, b
    seg = np.repeat(np.arange(len(a)), n)                                 # (S',) segment of each piece
    k = np.arange(len(seg)) - np.repeat(np.cumsum(n) - n, n)              # (S',) piece index in its segment
    step = ((b - a) / n[:, None])[seg]                                    # (S', 2)
    start = a[seg] + k[:, None] * step
    return start, start + step


def _local_chunks(a: np.ndarray, b: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) runs of at most SEGMENT_CHUNK consecutive segments (a/b (S, 2), raster pixels) whose
    points stay within CHUNK_SPAN pixels of each other. A chunk's pixel window is then small, so the work
    is bounded by the ink (scattered dots or a zigzag used to make every 64-segment chunk cover the whole
    raster: 10,000 dots took 10 s)."""
    lo, hi = np.minimum(a, b).tolist(), np.maximum(a, b).tolist()  # (S, 2) each segment's bounding box
    chunks, start = [], 0
    (x0, y0), (x1, y1) = lo[0], hi[0]
    for i in range(1, len(a)):
        nx0, ny0 = min(x0, lo[i][0]), min(y0, lo[i][1])
        nx1, ny1 = max(x1, hi[i][0]), max(y1, hi[i][1])
        if i - start >= SEGMENT_CHUNK or max(nx1 - nx0, ny1 - ny0) > CHUNK_SPAN:
            chunks.append((start, i))
            start, (x0, y0), (x1, y1) = i, lo[i], hi[i]
        else:
            x0, y0, x1, y1 = nx0, ny0, nx1, ny1
    chunks.append((start, len(a)))
    return chunks


def _pixel_window(points: np.ndarray, margin: float, w: int, h: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Pixel index range [x0, x1) x [y0, y1) covering `points` (K, 2) plus `margin`, clipped to the raster."""
    x0, y0 = np.maximum(np.floor(points.min(axis=0) - margin), 0).astype(int)
    x1, y1 = np.ceil(points.max(axis=0) + margin).astype(int) + 1
    return (int(x0), int(y0)), (int(min(x1, w)), int(min(y1, h)))


def _distance_to_segments(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from each point to the nearest segment: p (P, 2), a/b (S, 2) -> (P,)."""
    ab = b - a                                               # (S, 2)
    len2 = np.maximum((ab * ab).sum(axis=1), 1e-12)          # (S,)
    ap = p[:, None, :] - a[None, :, :]                       # (P, S, 2)
    t = np.clip((ap * ab).sum(axis=2) / len2, 0.0, 1.0)      # (P, S) projection onto each segment
    d = ap - t[:, :, None] * ab                              # (P, S, 2)
    return np.sqrt((d * d).sum(axis=2)).min(axis=1)
