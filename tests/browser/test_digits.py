"""/digits in a real browser: draw with mouse events (page scrolled) and get the right label."""
from __future__ import annotations

import math

import httpx
import pytest

from conftest import MNIST_DIR

pytestmark = pytest.mark.browser


def stroke(page, points):
    """Drag the mouse through `points` given as fractions (0..1) of the pad's box, in viewport coordinates."""
    box = page.locator("#drawpad").bounding_box()
    to = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*to[0])
    page.mouse.down()
    for x, y in to[1:]:
        page.mouse.move(x, y)
    page.mouse.up()


def one():
    return [(0.52, 0.15 + 0.7 * i / 20) for i in range(21)]


def zero():
    return [(0.5 + 0.22 * math.sin(2 * math.pi * i / 40), 0.5 - 0.33 * math.cos(2 * math.pi * i / 40))
            for i in range(42)]


def default_model_ready(server) -> bool:
    r = httpx.post(f"{server.url}/api/digits/predict", json={"strokes": [[[0, 0], [0, 10]]]}, timeout=30)
    return r.status_code == 200


def train_on_page(page):
    """Train the preset dense network on 3000 MNIST images for 2 epochs from the page; returns the job id."""
    page.locator("#limit").fill("3000")
    page.locator("#limit").press("Tab")
    page.click("text=optimizer, epochs, batch")
    epochs = page.locator("#digit-controls input[data-param=epochs]")
    epochs.fill("2")
    epochs.press("Tab")
    page.click("#train")
    page.wait_for_function("['completed', 'failed', 'invalid'].includes(document.getElementById('train-status').textContent)",
                           timeout=120_000)
    assert page.locator("#train-status").inner_text() == "completed", page.locator("#eta").inner_text()
    page.wait_for_function("[...document.querySelectorAll('#model-choice option')].some(o => o.value)")
    return page.locator("#model-choice option").nth(1).get_attribute("value")


def test_digits_drawn_with_the_mouse_on_a_scrolled_page_are_read_correctly(page, server, shot):
    have_default = default_model_ready(server)
    if not have_default and not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"no default digit model and no MNIST files in {MNIST_DIR} to train one")
    page.goto("/digits")
    page.wait_for_selector("body[data-ready=true]")
    if not have_default:
        job = train_on_page(page)
        page.select_option("#model-choice", job)
        assert int(page.locator("#digit-histograms").get_attribute("data-frames")) >= 1
        shot(page, "digits-trained")

    page.locator("#drawpad").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 40)")      # the pad's box moves; ink must not
    for name, path, label in (("one", one(), "1"), ("zero", zero(), "0")):
        page.click("#clear")
        stroke(page, path)
        page.wait_for_function(f"document.getElementById('prediction').dataset.label === '{label}'", timeout=15_000)
        seen = page.locator("#seen").evaluate(
            "c => { const d = c.getContext('2d').getImageData(0, 0, 28, 28).data; let s = 0;"
            " for (let i = 0; i < d.length; i += 4) s += d[i]; return s; }")
        assert seen > 0  # the 28x28 input the model saw is drawn
        shot(page, f"digits-{name}")


def test_undo_removes_the_last_stroke_and_clear_resets_the_reading(page, server):
    if not default_model_ready(server):
        pytest.skip("needs the shipped default digit model (engine/assets/digit_model.npz)")
    page.goto("/digits")
    page.wait_for_selector("body[data-ready=true]")
    stroke(page, one())
    page.wait_for_function("document.getElementById('prediction').dataset.label !== ''")
    page.click("#undo")
    page.wait_for_function("document.getElementById('prediction').dataset.label === ''")
    stroke(page, one())
    page.wait_for_function("document.getElementById('prediction').dataset.label === '1'")
    page.click("#clear")
    page.wait_for_function("document.getElementById('prediction').textContent === '?'")
