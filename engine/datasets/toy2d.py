"""2-D sets in [-6, 6]^2 modelled on TensorFlow Playground's datasets (labels 0/1 instead of -1/+1).

Each generator is `gen(rng, n, noise, **options) -> (points (n, 2) float64, targets)`; targets are int
class labels (n,) or regression values (n,) in [-1, 1]. `noise` is the playground's slider value / 100.
"""
from __future__ import annotations

import numpy as np

from .base import DATASETS, PLAYGROUND_DOMAIN, Dataset, split_points, toy_options
from .features import apply_features, check_features

RADIUS = 5.0        # circle / spiral size, as in the playground
REG_RADIUS = 6.0    # regression sets cover the whole domain


def _toy(name: str, doc: str, task: str = "classification", n_classes: tuple | None = None):
    """Register a generator as a dataset: generate, split, apply features."""
    def decorator(gen):
        @DATASETS.register(name, doc=doc, params=toy_options(n_classes), kind="2d", task=task)
        def load(options: dict, spec: dict, features) -> Dataset:
            features = check_features(features)
            rng = np.random.default_rng(options["seed"])
            extra = {"n_classes": options["n_classes"]} if n_classes else {}
            points, targets = gen(rng, options["n_samples"], options["noise"], **extra)
            return make_2d(name, points, targets, task, options["test_ratio"], rng, features,
                           options.get("n_classes", 2 if task == "classification" else None))
        load.generate = gen
        return load
    return decorator


def make_2d(name, points, targets, task, test_ratio, rng, features, n_classes) -> Dataset:
    p_tr, t_tr, p_te, t_te = split_points(points.astype(np.float32), targets, test_ratio, rng)
    return Dataset(
        name=name, x_train=apply_features(p_tr, features), y_train=as_targets(t_tr, task),
        x_test=apply_features(p_te, features), y_test=as_targets(t_te, task), task=task,
        n_classes=n_classes if task == "classification" else None,
        class_names=[str(k) for k in range(n_classes)] if task == "classification" else None,
        input_shape=(len(features),), domain=[list(r) for r in PLAYGROUND_DOMAIN],
        features=features, points_train=p_tr, points_test=p_te)


def as_targets(t: np.ndarray, task: str) -> np.ndarray:
    """Classification -> int64 (N,); regression -> float32 (N, 1)."""
    if task == "classification":
        return np.asarray(t, dtype=np.int64)
    return np.asarray(t, dtype=np.float32).reshape(len(t), -1)


def _half(n: int) -> tuple[int, int]:
    return n // 2, n - n // 2


@_toy("circle", "a disc (class 1) inside a ring (class 0); noise jitters the position used for the label, "
                "so labels flip near the radius-2.5 boundary while the points stay put")
def circle(rng, n, noise):
    n_in, n_out = _half(n)
    r = np.concatenate([rng.uniform(0, RADIUS * 0.5, n_in), rng.uniform(RADIUS * 0.7, RADIUS, n_out)])
    angle = rng.uniform(0, 2 * np.pi, n)
    points = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)     # (n, 2)
    jitter = rng.uniform(-RADIUS, RADIUS, (n, 2)) * noise
    labels = (np.linalg.norm(points + jitter, axis=1) < RADIUS * 0.5).astype(np.int64)
    return points, labels


@_toy("xor", "four quadrants, class 1 where x1 * x2 >= 0; noise jitters the position used for the label, "
             "so labels flip near the axes while the points stay put")
def xor(rng, n, noise):
    padding = 0.3  # keeps points off the axes
    points = rng.uniform(-5, 5, (n, 2))
    points = points + np.where(points > 0, padding, -padding)
    jitter = rng.uniform(-5, 5, (n, 2)) * noise
    moved = points + jitter
    labels = (moved[:, 0] * moved[:, 1] >= 0).astype(np.int64)
    return points, labels


@_toy("gauss", "two Gaussian clusters, class 1 around (2, 2) and class 0 around (-2, -2); noise widens "
               "the clusters (variance 0.5 + 7 * noise), so the points move and overlap")
def gauss(rng, n, noise):
    std = np.sqrt(0.5 + 7.0 * noise)
    labels = (np.arange(n) < n // 2).astype(np.int64)
    centres = np.where(labels[:, None] == 1, 2.0, -2.0)                  # (n, 1) -> broadcast to (n, 2)
    return centres + rng.normal(0, std, (n, 2)), labels


@_toy("spiral", "interleaved spiral arms, one per class (2 to 5); noise moves each point by up to "
                "+-noise in x and y (uniform), as in the playground", n_classes=(2, 2, 5))
def spiral(rng, n, noise, n_classes=2):
    labels = np.arange(n) % n_classes
    i = np.arange(n) // n_classes                                        # index along the arm
    per_arm = max(int(np.ceil(n / n_classes)), 1)
    frac = i / per_arm
    r = frac * RADIUS
    t = 1.75 * frac * 2 * np.pi + labels * (2 * np.pi / n_classes)
    points = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
    return points + rng.uniform(-1, 1, (n, 2)) * noise, labels.astype(np.int64)


@_toy("moons", "two interleaving half circles (scikit-learn's make_moons scaled by 3.5); noise is the "
               "Gaussian jitter's standard deviation relative to the moon radius, so the points move")
def moons(rng, n, noise):
    n_a, n_b = _half(n)
    t = np.concatenate([np.linspace(0, np.pi, n_a), np.linspace(0, np.pi, n_b)])
    labels = (np.arange(n) >= n_a).astype(np.int64)
    x = np.where(labels == 0, np.cos(t), 1 - np.cos(t))
    y = np.where(labels == 0, np.sin(t), 0.5 - np.sin(t))
    points = np.stack([x - 0.5, y - 0.25], axis=1) * 3.5                # centred, about [-5.3, 5.3]
    return points + rng.normal(0, noise * 3.5, (n, 2)), labels


@_toy("blobs", "2 to 8 Gaussian clusters on a circle of radius 4, one per class; noise widens them "
               "(standard deviation 0.5 + 2 * noise), so the points move and overlap", n_classes=(3, 2, 8))
def blobs(rng, n, noise, n_classes=3):
    labels = np.arange(n) % n_classes
    angle = 2 * np.pi * labels / n_classes + np.pi / 4
    centres = 4.0 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return centres + rng.normal(0, 0.5 + 2.0 * noise, (n, 2)), labels.astype(np.int64)


@_toy("plane", "regression: target (x1 + x2) / 10 clipped to [-1, 1]; noise jitters the position the "
               "target is computed from (uniform, up to 6 * noise), so targets get noisy", task="regression")
def plane(rng, n, noise):
    points = rng.uniform(-REG_RADIUS, REG_RADIUS, (n, 2))
    moved = points + rng.uniform(-REG_RADIUS, REG_RADIUS, (n, 2)) * noise
    return points, np.clip(moved.sum(axis=1) / 10.0, -1.0, 1.0)


# (centre x, centre y, sign) of the playground's six bumps
GAUSSIANS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]],
                     dtype=np.float64)


@_toy("multi_gauss", "regression: six signed bumps, target = the strongest bump, sign * max(0, 1 - dist/2); "
                     "noise jitters the position the target is computed from, so targets get noisy",
      task="regression")
def multi_gauss(rng, n, noise):
    points = rng.uniform(-REG_RADIUS, REG_RADIUS, (n, 2))
    moved = points + rng.uniform(-REG_RADIUS, REG_RADIUS, (n, 2)) * noise
    dist = np.linalg.norm(moved[:, None, :] - GAUSSIANS[None, :, :2], axis=2)   # (n, 6)
    values = GAUSSIANS[None, :, 2] * np.clip(1.0 - dist / 2.0, 0.0, 1.0)        # (n, 6)
    strongest = np.argmax(np.abs(values), axis=1)
    return points, values[np.arange(n), strongest]
