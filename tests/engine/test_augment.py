"""Image augmentation: shape and dtype kept, seeded, identity at zero, known pixel moves, vectorised speed."""
import sys

import numpy as np
import pytest

from engine.augment import AUGMENTATION_OPTIONS, CHUNK, affine_images, augment_images, resolve_augmentation
from engine.errors import SpecError


def digits(n=64, seed=0):
    """(n, 1, 28, 28) float32 images with a random blob each."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 1, 28, 28), np.float32)
    x[:, :, 8:20, 10:18] = rng.random((n, 1, 12, 8))
    return x


def one_pixel(row=10, col=10):
    x = np.zeros((1, 1, 28, 28), np.float32)
    x[0, 0, row, col] = 1.0
    return x


@pytest.mark.parametrize("shape", [(5, 1, 28, 28), (5, 784), (5, 3, 16, 16)])
def test_augmentation_keeps_shape_and_dtype(shape):
    x = np.random.default_rng(0).random(shape).astype(np.float32)
    y = augment_images(x, np.random.default_rng(1))
    assert y.shape == x.shape and y.dtype == np.float32 and np.all(np.isfinite(y))


def test_augmentation_is_seeded():
    x = digits()
    a = augment_images(x, np.random.default_rng(3))
    b = augment_images(x, np.random.default_rng(3))
    c = augment_images(x, np.random.default_rng(4))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_zero_parameters_are_the_identity():
    x = digits()
    assert np.array_equal(augment_images(x, np.random.default_rng(0), shift=0, rotation=0, scale=0), x)


def test_samples_get_different_transforms():
    x = np.repeat(digits(1), 8, axis=0)
    y = augment_images(x, np.random.default_rng(0))
    assert len({yi.tobytes() for yi in y}) == 8


@pytest.mark.parametrize("dx,dy", [(2, 0), (0, 3), (-4, 1)])
def test_integer_shift_moves_a_known_pixel(dx, dy):
    y = affine_images(one_pixel(10, 10), [dx], [dy], [0], [1])
    assert np.argwhere(y[0, 0] > 0).tolist() == [[10 + dy, 10 + dx]] and y.sum() == pytest.approx(1.0)


def test_half_pixel_shift_splits_the_ink_between_neighbours():
    y = affine_images(one_pixel(10, 10), [0.5], [0], [0], [1])
    assert y[0, 0, 10, 10] == pytest.approx(0.5) and y[0, 0, 10, 11] == pytest.approx(0.5)


def test_quarter_turn_moves_a_pixel_around_the_centre():
    # centre is (13.5, 13.5); (row 10, col 10) is 3.5 up-left of it
    y = affine_images(one_pixel(10, 10), [0], [0], [90], [1])
    assert np.argwhere(y[0, 0] > 0.99).tolist() == [[10, 17]]
    back = affine_images(y, [0], [0], [-90], [1])
    assert np.allclose(back, one_pixel(10, 10), atol=1e-5)


def test_zoom_moves_pixels_away_from_the_centre():
    y = affine_images(one_pixel(10, 10), [0], [0], [0], [2.0])[0, 0]   # 3.5 px from centre -> 7 px
    rows, cols = np.mgrid[0:28, 0:28]
    centre_of_mass = [(rows * y).sum() / y.sum(), (cols * y).sum() / y.sum()]
    assert np.allclose(centre_of_mass, [13.5 - 7, 13.5 - 7], atol=1e-5)
    assert y.sum() == pytest.approx(4.0)                               # area grows by zoom^2


def test_content_shifted_out_of_the_image_is_gone():
    assert affine_images(digits(2), [40, -40], [0, 0], [0, 0], [1, 1]).sum() == 0


def test_augmentation_does_not_modify_its_input():
    x = digits()
    before = x.copy()
    augment_images(x, np.random.default_rng(0))
    assert np.array_equal(x, before)


def _python_calls(fn) -> int:
    """How many Python-level function calls `fn()` makes (C calls into NumPy are not counted)."""
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        calls += event == "call"

    sys.setprofile(count)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return calls


def test_augmentation_is_vectorised_over_the_batch():
    # no Python loop over samples: one image and a whole chunk of them make the same Python calls
    # (its speed is measured in benchmarks, not here)
    one, many = digits(1), digits(CHUNK)
    assert _python_calls(lambda: augment_images(one, np.random.default_rng(0))) == \
        _python_calls(lambda: augment_images(many, np.random.default_rng(0)))


def test_options_are_params_with_defaults():
    names = [p.name for p in AUGMENTATION_OPTIONS]
    assert names == ["shift", "rotation", "scale"]
    assert resolve_augmentation({}) == {"shift": 2.0, "rotation": 10.0, "scale": 0.1}
    assert resolve_augmentation(None) is None
    with pytest.raises(SpecError) as e:
        resolve_augmentation({"rotation": 400})
    assert e.value.problems[0].path == "training.augmentation.rotation"
