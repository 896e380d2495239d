"""/autoencoder with convolutions: a conv encoder mirrored into a conv decoder (upsample2d + conv2d back to
28x28) by one click, trained on MNIST; the code space fills and the decoder draws a digit."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

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
    expect(page.locator("#ae-encoder-what")).to_have_text("filters")    # the kind's own name for its sizes
    page.click("#ae-mirror")
    assert page.input_value("#ae-decoder") == "8, 4" and page.input_value("#ae-decoder-kind") == "conv"
    expect(page.locator("#ae-layers li")).to_have_text(CONV_CHIPS)     # the engine's layers, asked for


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


def test_the_form_comes_from_the_engine_and_a_decoder_that_cannot_reach_28_is_refused_by_name(page):
    """Choices, ranges and defaults from GET /api/models/autoencoder; the engine's shape rule (a conv decoder
    halves 28 evenly at most twice) answers the form, the page only shows it."""
    page.goto("/autoencoder")
    expect(page.locator("#ae-layers li")).to_have_text(["784 in", "256", "2 code", "256", "784"])
    answer = page.evaluate("fetch('/api/models/autoencoder').then((r) => r.json())")
    options = {p["name"]: p for p in answer["options"]}
    assert page.locator("#ae-loss option").evaluate_all("os => os.map((o) => o.value)") == options["loss"]["choices"]
    assert page.get_attribute("#ae-limit", "max") == str(options["limit"]["max"])
    page.select_option("#ae-decoder-kind", "conv")
    page.fill("#ae-decoder", "8, 8, 8")
    expect(page.locator("#ae-error")).to_contain_text("options.decoder_sizes: a conv decoder doubles the side back up to 28")
    page.fill("#ae-decoder", "8, 8")
    expect(page.locator("#ae-error")).to_have_text("")
    expect(page.locator("#ae-layers li").nth(4)).to_have_text("8×7×7")
