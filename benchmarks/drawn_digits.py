"""Report how well a digit model reads MNIST test digits rendered like canvas drawings, per pen and style.

    python benchmarks/drawn_digits.py [--model engine/assets/digit_model.npz] [--n 1000]

Uses the renderer of tests/engine/test_drawn_digits.py (upscaled 4-12x, off-centre on a larger canvas,
thin/normal/thick ink, transparent RGBA or opaque backgrounds) and prints clean vs drawn accuracy.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "engine"))

import test_drawn_digits as drawn  # noqa: E402  (the renderer lives with the test that uses it)

from engine.digits import DEFAULT_MODEL_PATH, predict_proba, prepare_drawing  # noqa: E402
from engine.model import load_model  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(DEFAULT_MODEL_PATH))
    parser.add_argument("--n", type=int, default=1000, help="fixed MNIST test images to render")
    args = parser.parse_args(argv)
    model = load_model(args.model)
    images, labels = drawn.fixed_test_subset(args.n)
    clean = (predict_proba(model, images.astype(np.float32) / 255.0).argmax(1) == labels).mean()
    print(f"clean accuracy on {args.n} test images: {clean:.4f}")
    start = time.perf_counter()
    overall = drawn.drawn_and_clean_accuracy(model, images, labels)[0]
    print(f"drawn accuracy (mixed pens and styles): {overall:.4f}  ({time.perf_counter() - start:.1f} s)")
    for pen in drawn.PENS:
        for style in drawn.STYLES:
            rng = np.random.default_rng(7)
            prepared = np.stack([prepare_drawing(drawn.render_on_canvas(img, rng, style, pen)) for img in images])
            acc = (predict_proba(model, prepared).argmax(1) == labels).mean()
            print(f"  pen {pen:<7} style {style:<15} {acc:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
