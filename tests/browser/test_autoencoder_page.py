"""/autoencoder in a real browser: mirror the encoder, train on MNIST, watch the code space fill with test
digits and click it to get a picture from the decoder; originals above reconstructions."""
from __future__ import annotations


import pytest
from playwright.sync_api import expect

from browser_support import MNIST_DIR, watched_page, cancel_active_jobs

pytestmark = pytest.mark.browser
HAVE_MNIST = (MNIST_DIR / "train-images-idx3-ubyte.gz").exists()
INK = """sel => { const c = document.querySelector(sel); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 200) n++; return n; }"""


def test_mirror_makes_the_decoder_the_encoder_reversed(page):
    page.goto("/autoencoder")
    page.fill("#ae-encoder", "128, 32")
    page.click("#ae-mirror")
    assert page.input_value("#ae-decoder") == "32, 128"
    expect(page.locator("#ae-layers li")).to_have_text(["784 in", "128", "32", "2 code", "32", "128", "784"])


@pytest.mark.skipif(not HAVE_MNIST, reason="no MNIST files")
@pytest.mark.parametrize("viewport,name", [({"width": 1280, "height": 720}, "autoencoder_1280"),
                                           ({"width": 390, "height": 844}, "autoencoder_390")])
def test_the_code_space_fills_while_training_and_a_click_draws_a_digit(browser, server, shot, viewport, name):
    with watched_page(browser, server.url, viewport=viewport) as page:
        page.goto("/autoencoder")
        page.fill("#ae-encoder", "64")
        page.click("#ae-mirror")
        page.fill("#ae-limit", "600")
        page.fill("#ae-epochs", "4")
        page.click("#ae-train")
        page.wait_for_function("Number(document.getElementById('ae-codes').dataset.points) >= 500", timeout=90_000)
        assert page.locator("#ae-legend span").count() == 10
        codes = page.locator("#ae-codes")
        codes.scroll_into_view_if_needed()
        box = codes.bounding_box()
        codes.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.5})
        page.wait_for_selector("#ae-decoded[data-decoded='1']", timeout=30_000)
        assert page.evaluate(INK, "#ae-decoded") > 20          # the decoder drew some ink
        page.wait_for_function("document.querySelectorAll('#ae-reconstructions canvas').length === 12", timeout=30_000)
        assert page.locator("#ae-originals canvas").count() == 12
        page.wait_for_selector("#ae-train:not([disabled])", timeout=120_000)   # the run ended
        shot(page, name)
    cancel_active_jobs(server.url)
