"""/autoencoder with convolutions: a conv encoder mirrored into a conv decoder (upsample2d + conv2d back to
28x28) by one click, trained on MNIST; the code space fills and the decoder draws a digit."""
from __future__ import annotations

import pytest

from browser_support import MNIST_DIR, cancel_active_jobs, watched_page
from test_autoencoder_page import INK

pytestmark = pytest.mark.browser
HAVE_MNIST = (MNIST_DIR / "train-images-idx3-ubyte.gz").exists()
CONV_CHIPS = ["28×28 in", "conv 4", "pool", "conv 8", "pool", "flatten", "2 code", "392", "8×7×7",
              "up ×2", "conv 8", "up ×2", "conv 4", "conv 1", "flatten", "sigmoid"]


def test_mirror_makes_a_conv_encoder_a_conv_decoder(page):
    page.goto("/autoencoder")
    page.select_option("#ae-encoder-kind", "conv")
    page.fill("#ae-encoder", "4, 8")
    assert page.locator("#ae-encoder-what").inner_text() == "filters"
    page.click("#ae-mirror")
    assert page.input_value("#ae-decoder") == "8, 4" and page.input_value("#ae-decoder-kind") == "conv"
    assert page.locator("#ae-layers li").all_inner_texts() == CONV_CHIPS


@pytest.mark.skipif(not HAVE_MNIST, reason="no MNIST files")
@pytest.mark.parametrize("viewport,name", [({"width": 1280, "height": 720}, "autoencoder_conv_1280"),
                                           ({"width": 390, "height": 844}, "autoencoder_conv_390")])
def test_a_conv_autoencoder_trains_and_its_decoder_draws(browser, server, shot, viewport, name):
    with watched_page(browser, server.url, viewport=viewport) as page:
        page.goto("/autoencoder")
        page.select_option("#ae-encoder-kind", "conv")
        page.fill("#ae-encoder", "4, 8")
        page.click("#ae-mirror")
        page.fill("#ae-limit", "300")
        page.fill("#ae-epochs", "2")
        page.click("#ae-train")
        page.wait_for_function("Number(document.getElementById('ae-codes').dataset.points) >= 500", timeout=240_000)
        assert page.locator("#ae-error").inner_text() == ""
        codes = page.locator("#ae-codes")
        codes.scroll_into_view_if_needed()
        box = codes.bounding_box()
        codes.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.5})
        page.wait_for_selector("#ae-decoded[data-decoded='1']", timeout=60_000)
        assert page.evaluate(INK, "#ae-decoded") > 0                       # a 28x28 picture came back
        page.wait_for_function("document.querySelectorAll('#ae-reconstructions canvas').length === 12",
                               timeout=60_000)
        page.wait_for_selector("#ae-train:not([disabled])", timeout=240_000)   # the run ended
        shot(page, name)
    cancel_active_jobs(server.url)
