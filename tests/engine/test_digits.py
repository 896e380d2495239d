"""prepare_drawing: canvas pixels or strokes -> the (28, 28) MNIST-style image; predict_drawing on the default model."""
from __future__ import annotations

import numpy as np
import pytest

from engine.limits import DEFAULT_LIMITS
from engine.digits import (DEFAULT_MODEL_PATH, MAX_SIDE, default_model, predict_drawing, prepare_drawing,
                           resample_matrix, resize_longer_side)
from engine.errors import DataError
from engine.rasterize import rasterize_strokes

needs_model = pytest.mark.skipif(not DEFAULT_MODEL_PATH.exists(), reason="default digit model not trained yet")


def ring_ink(h: int = 300, w: int = 240, width: float = 14.0) -> np.ndarray:
    """(h, w) float ink: an off-centre ellipse outline, a '0' drawn on a big canvas."""
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot((yy - 120) / 80.0, (xx - 90) / 50.0)
    return np.clip((width / 80.0 - np.abs(r - 1.0)) * 40.0, 0.0, 1.0)


def as_rgba(ink: np.ndarray, rgb=(0, 0, 0)) -> np.ndarray:
    h, w = ink.shape
    colour = np.broadcast_to(np.array(rgb, np.uint8), (h, w, 3))
    return np.dstack([colour, np.round(ink * 255).astype(np.uint8)])


def black_on_white(ink: np.ndarray) -> np.ndarray:
    return np.repeat(np.round(255 - ink * 255).astype(np.uint8)[:, :, None], 3, axis=2)


def white_on_black_grey(ink: np.ndarray) -> np.ndarray:
    return np.round(ink * 255).astype(np.uint8)


def ink_bbox(img: np.ndarray, floor: float = 0.0) -> tuple[int, int]:
    rows, cols = np.flatnonzero((img > floor).any(1)), np.flatnonzero((img > floor).any(0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    i = np.arange(28)
    return float(img.sum(1) @ i / img.sum()), float(img.sum(0) @ i / img.sum())


@pytest.mark.parametrize("make", [as_rgba, black_on_white, white_on_black_grey])
def test_output_is_28x28_float32_in_unit_range_with_ink_peak_one(make):
    out = prepare_drawing(make(ring_ink()))
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() == pytest.approx(1.0)
    assert out[0].max() == 0 and out[:, 0].max() == 0                  # background stays 0


def test_centre_of_mass_lands_on_14_14_within_one_pixel():
    out = prepare_drawing(as_rgba(ring_ink()))
    r, c = centre_of_mass(out)
    assert abs(r - 14) <= 1 and abs(c - 14) <= 1


def test_longer_side_of_the_ink_box_is_20_pixels_and_aspect_ratio_is_kept():
    ink = np.zeros((400, 400))
    ink[50:350, 180:210] = 1.0                                            # a tall '1': 300 x 30
    out = prepare_drawing(as_rgba(ink))
    h, w = ink_bbox(out)
    assert h == 20
    assert w == 2                                                         # 30 * 20 / 300 = 2 px, not stretched


def test_alpha_luminance_and_inverted_backgrounds_give_the_same_image():
    ink = ring_ink()
    outs = [prepare_drawing(as_rgba(ink)), prepare_drawing(as_rgba(ink, (200, 30, 30))),
            prepare_drawing(black_on_white(ink)), prepare_drawing(white_on_black_grey(ink)),
            prepare_drawing(white_on_black_grey(ink)[:, :, None])]
    for out in outs[1:]:
        np.testing.assert_allclose(out, outs[0], atol=0.02)


def test_opaque_rgba_canvas_falls_back_to_luminance():
    ink = ring_ink()
    opaque = np.dstack([black_on_white(ink), np.full(ink.shape, 255, np.uint8)])
    np.testing.assert_allclose(prepare_drawing(opaque), prepare_drawing(black_on_white(ink)), atol=1e-6)


def test_off_white_background_is_not_ink():
    ink = ring_ink()
    paper = np.round(230 - ink * 200).astype(np.uint8)                   # grey paper, dark ink
    np.testing.assert_allclose(prepare_drawing(paper), prepare_drawing(white_on_black_grey(ink)), atol=0.03)


@pytest.mark.parametrize("canvas", [
    np.zeros((280, 280, 4), np.uint8),                                    # transparent, nothing drawn
    np.full((280, 280, 3), 255, np.uint8),                                # white, nothing drawn
    np.zeros((200, 300), np.uint8),                                       # black, nothing drawn
    np.pad(np.full((2, 2, 3), 0, np.uint8), 100, constant_values=255)[:, :, 100:103],  # a 2x2 speck
])
def test_empty_or_near_empty_canvas_raises_a_clear_error(canvas):
    with pytest.raises(DataError, match="the drawing is empty"):
        prepare_drawing(canvas)


@pytest.mark.parametrize("strokes", [[], [[]], [[[5, 5]]], [[[5, 5], [5, 5]], [[5, 5]]], {"strokes": []}])
def test_empty_stroke_lists_and_single_dots_are_rejected_as_empty(strokes):
    with pytest.raises(DataError, match="the drawing is empty"):
        prepare_drawing(strokes)


def test_images_over_the_size_limit_are_rejected():
    with pytest.raises(DataError, match=f"at most {MAX_SIDE}x{MAX_SIDE}"):
        prepare_drawing(np.zeros((MAX_SIDE + 1, 10), np.uint8))


@pytest.mark.parametrize("bad", [np.zeros((10, 10, 5), np.uint8), np.zeros((2, 3, 4, 4), np.uint8),
                                 np.full((10, 10), 2.0), np.zeros((10, 10), np.int64)])
def test_bad_shapes_and_dtypes_name_what_is_allowed(bad):
    with pytest.raises(DataError, match="image:"):
        prepare_drawing(bad)


def test_one_pixel_strokes_survive_the_shrink_because_area_averaging_keeps_ink_mass():
    ink = np.zeros((600, 600))
    ink[100:500, 300] = 1.0                                               # a 1 px '1', shrunk 20x
    ink[100, 200:400] = 1.0                                               # and a 1 px bar across (a 'T')
    out = prepare_drawing(as_rgba(ink))
    assert (out > 0.3).sum() >= 25                                        # ~20 + ~10 px: both strokes still there
    assert out[:, 14].sum() > 5 and out.sum(axis=1).max() > 5


def test_area_averaging_matrix_preserves_mass_and_is_exact_for_integer_factors():
    rng = np.random.default_rng(0)
    img = rng.random((60, 40)).astype(np.float32)
    out = resample_matrix(60, 20) @ img @ resample_matrix(40, 10).T       # factor 3 x 4 box filter
    np.testing.assert_allclose(out, img.reshape(20, 3, 10, 4).mean(axis=(1, 3)), rtol=1e-5)
    small = resize_longer_side(img, 20)
    assert small.shape == (20, 13)
    assert small.mean() == pytest.approx(img.mean(), rel=0.02)


def test_strokes_rasterise_with_a_pen_that_scales_with_the_drawing():
    small = rasterize_strokes([[[0, 0], [0, 30]]])
    large = rasterize_strokes([[[0, 0], [0, 3000]]])
    np.testing.assert_allclose(small, large, atol=1e-5)                  # same picture at any canvas scale
    out = prepare_drawing({"strokes": [[[10, 10], [10, 200]]], "width": 280, "height": 280})
    h, w = ink_bbox(out, 0.2)
    assert h == 20 and 1 <= w <= 3                                        # ~2 px wide like MNIST


def test_bad_stroke_points_name_the_stroke():
    with pytest.raises(DataError, match="strokes.1"):
        prepare_drawing([[[0, 0], [10, 10]], [[0, 0, 3]]])
    with pytest.raises(DataError, match="strokes.0"):
        prepare_drawing([[[0, float("nan")], [10, 10]]])


def test_scribbles_far_longer_than_a_digit_are_rejected_not_rasterised_for_seconds():
    zigzag = np.random.default_rng(0).uniform(0, 100, (2000, 2)).tolist()
    with pytest.raises(DataError, match="strokes: the pen travels"):
        prepare_drawing([zigzag])
    n = DEFAULT_LIMITS.max_stroke_points
    with pytest.raises(DataError, match=f"at most {n} points"):
        prepare_drawing([[[i % 7, i % 5] for i in range(n + 1)]])


def arc(cx, cy, rx, ry, t0, t1, n=30) -> list:
    """Points along an ellipse arc (canvas y grows downwards), angles in radians."""
    t = np.linspace(t0, t1, n)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1).tolist()


PI = np.pi
HAND_DRAWN = {   # one stroke list per digit, as a person would draw it on a ~200 px canvas
    0: [arc(140, 140, 60, 100, -PI / 2, 1.5 * PI, 40)],
    1: [[[52, 40], [70, 22], [70, 250]]],
    2: [arc(100, 70, 45, 40, -PI, 0.25 * PI)[:-1] + [[60, 190], [150, 190]]],
    3: [arc(100, 60, 40, 35, -0.9 * PI, 0.5 * PI) + arc(100, 145, 45, 45, -0.5 * PI, 0.9 * PI)[1:]],
    4: [[[110, 20], [50, 130], [150, 130]], [[120, 70], [120, 200]]],
    5: [[[140, 20], [70, 20], [65, 90]] + arc(100, 135, 45, 50, -0.75 * PI, 0.8 * PI)],
    6: [[[130, 20], [80, 80], [62, 140]] + arc(100, 150, 40, 40, PI, 3 * PI, 40)],
    7: [[[40, 30], [200, 30], [120, 260]]],
    8: [arc(100, 60, 35, 40, 0.5 * PI, 2.5 * PI, 40) + arc(100, 145, 45, 45, -0.5 * PI, 1.5 * PI, 40)],
    9: [arc(100, 60, 40, 40, 0, 2 * PI, 40) + [[140, 60], [130, 200]]],
}


@needs_model
@pytest.mark.parametrize("digit", sorted(HAND_DRAWN))
def test_default_model_reads_hand_made_stroke_digits(digit):
    result = predict_drawing(HAND_DRAWN[digit])
    assert result["label"] == digit, result["probabilities"]
    assert len(result["probabilities"]) == 10 and sum(result["probabilities"]) == pytest.approx(1.0, abs=1e-4)
    assert np.asarray(result["input"]).shape == (28, 28)


@needs_model
def test_default_model_is_loaded_once():
    assert default_model() is default_model()



def test_a_stroke_digit_drawn_tiny_and_off_centre_prepares_like_the_big_one():
    big = prepare_drawing(HAND_DRAWN[3])
    tiny = [(np.asarray(s) * 0.1 + [500, 20]).tolist() for s in HAND_DRAWN[3]]
    np.testing.assert_allclose(prepare_drawing({"strokes": tiny, "width": 800, "height": 600}), big, atol=1e-4)
