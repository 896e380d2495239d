"""'Inside the network' while training: histograms labelled as the builder labels layers, each layer's
activations with their saturation, values past the fixed edges marked, and TensorBoard's overlay mode."""
from __future__ import annotations

import pytest
from browser_support import open_playground

pytestmark = pytest.mark.browser


def test_histograms_show_activations_with_builder_labels_and_an_overlay_mode(page, shot):
    open_playground(page)
    page.click("#play")
    page.wait_for_function("Number(document.getElementById('histograms').dataset.frames) >= 3", timeout=60_000)
    page.click("#play")                                                    # pause: the rows stop changing
    rows = page.locator("#histograms .hist-row")
    labels = rows.locator(".hist-key").all_inner_texts()
    assert "Layer 1 weights" in labels and "Layer 1 biases" in labels and "Output weights" in labels, labels
    assert "Layer 1 activations (tanh)" in labels, labels
    act = page.locator('#histograms .hist-row[data-key="act:0"] .hist-stats').inner_text()
    assert "saturated" in act and "std" in act, act
    canvas = page.locator('#histograms .hist-row[data-key="0.W"] canvas').first
    offset = canvas.evaluate("c => c.toDataURL()")
    page.select_option("#histograms select.hist-mode", "overlay")
    page.wait_for_function("""(before) => document.querySelector('#histograms .hist-row[data-key="0.W"] canvas')
                               .toDataURL() !== before""", arg=offset, timeout=10_000)
    shot(page, "inside-the-network-overlay")


def test_the_builder_offers_an_initializers_and_an_activations_own_options(page):
    from browser_support import URL_STATE, builder_settled
    open_playground(page)
    card = page.locator(".layer-card").first
    card.locator("select[data-param=kernel_initializer]").select_option("random_normal")
    builder_settled(page)
    card = page.locator(".layer-card").first
    stddev = card.locator(".sub-options input[data-param=stddev]")
    assert stddev.input_value() == "0.01"                                 # the catalog's default
    stddev.fill("1")
    stddev.dispatch_event("change")
    card.locator("select[data-param=activation]").select_option("leaky_relu")
    builder_settled(page)
    alpha = page.locator(".layer-card").first.locator(".sub-options input[data-param=alpha]")
    alpha.fill("0.2")
    alpha.dispatch_event("change")
    page.wait_for_function(f"""() => {{ const l = ({URL_STATE})().model.layers[0];
        return l.kernel_initializer.name === 'random_normal' && l.kernel_initializer.stddev === 1
            && l.activation.name === 'leaky_relu' && l.activation.alpha === 0.2; }}""", timeout=10_000)
