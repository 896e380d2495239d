"""The rasterizer draws each chunk of segments only on the pixels near it; cutting long segments and
chunking by place must give the same ink as measuring every pixel against every segment."""
from __future__ import annotations

import numpy as np

from engine import rasterize


def brute_force(strokes: list) -> np.ndarray:
    """The same image, every pixel against every segment (the definition the fast path must match)."""
    a, b = rasterize.stroke_segments([np.asarray(s, dtype=np.float64) for s in strokes])
    pts = np.concatenate([a, b])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    grid, extent = rasterize.GRID, float((hi - lo).max())
    scale, radius = (grid - 1) / extent, 0.5 * rasterize.PEN_FRACTION * grid
    pad = int(np.ceil(radius)) + 1
    a, b = (a - lo) * scale + pad, (b - lo) * scale + pad
    w, h = np.ceil((hi - lo) * scale - 1e-6).astype(int) + 2 * pad + 1
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    d = rasterize._distance_to_segments(np.stack([xs.ravel(), ys.ravel()], axis=1), a, b).reshape(h, w)
    return np.clip(radius + 0.5 - d, 0.0, 1.0).astype(np.float32)


def test_chunked_ink_equals_every_pixel_against_every_segment(rng):
    walk = np.cumsum(rng.normal(0, 3, (400, 2)), axis=0).tolist()
    drawings = [
        [[[30, 20], [60, 20], [40, 90]], [[30, 55], [60, 55]]],                     # a 7
        [walk],                                                                     # a long scribble
        [[p] for p in rng.uniform(0, 300, (40, 2)).tolist()] + [[[0, 0], [300, 300], [0, 300]]],  # dots, jumps
    ]
    for strokes in drawings:
        fast = rasterize.rasterize_strokes(strokes)
        assert fast.shape == brute_force(strokes).shape
        assert np.allclose(fast, brute_force(strokes), atol=1e-6)


def test_long_segments_are_cut_into_pieces_no_longer_than_the_span():
    a, b = np.array([[0.0, 0.0], [5.0, 5.0]]), np.array([[100.0, 0.0], [6.0, 5.0]])
    pa, pb = rasterize._split_long(a, b, 16.0)
    lengths = np.hypot(*(pb - pa).T)
    assert len(pa) == 7 + 1 and lengths.max() <= 16.0 + 1e-9
    assert np.allclose(pa[0], [0, 0]) and np.allclose(pb[6], [100, 0]) and np.allclose(pb[1:6], pa[2:7])


def test_chunks_stay_within_the_span_and_cover_every_segment(rng):
    a = rng.uniform(0, 90, (500, 2))
    b = a + rng.uniform(-2, 2, (500, 2))
    chunks = rasterize._local_chunks(a, b)
    assert chunks[0][0] == 0 and chunks[-1][1] == 500
    assert all(e0 == s1 for (_, e0), (s1, _) in zip(chunks, chunks[1:]))
    for s, e in chunks:
        assert e - s <= rasterize.SEGMENT_CHUNK
        if e - s > 1:
            pts = np.concatenate([a[s:e], b[s:e]])
            assert (pts.max(axis=0) - pts.min(axis=0)).max() <= rasterize.CHUNK_SPAN
