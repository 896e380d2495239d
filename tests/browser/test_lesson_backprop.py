"""/lessons/backprop in a real browser on a real server: step through the 2-2-2 worked example and read w5's
updated weight and its formula from the page, step a computation graph backward, edit a weight, compare the
losses on a saturated neuron; screenshots at projector (1280x720) and phone (390x844) size."""
from __future__ import annotations

import copy
import re

import httpx
import pytest

from engine.lessons.backprop import NETWORK_PRESETS

pytestmark = pytest.mark.browser


def open_lesson(page, part=None):
    page.goto("/lessons/backprop" + (f"?part={part}" if part else ""))
    page.wait_for_selector("body[data-ready=true]")


def step(page, stepper, times=1):
    for _ in range(times):
        before = page.locator(f"#{stepper}").get_attribute("data-at")
        page.click(f"#{stepper} [data-step=next]")
        page.wait_for_function(f"document.getElementById('{stepper}').dataset.at !== '{before}'")


def read_number(text: str) -> float:
    return float(re.search(r"−?\d+\.\d+", text).group(0).replace("−", "-"))


def test_stepping_the_222_example_shows_w5s_updated_weight_and_formula(page, shot):
    open_lesson(page)
    page.click("#tab-network")
    page.wait_for_selector("#network g.neuron[data-unit=o1]")
    assert page.locator("#net-stepper [data-step=next]").is_enabled()
    assert page.locator("[data-after=w5]").count() == 0                       # nothing updated before the steps
    step(page, "net-stepper", 2)                                              # forward through both layers
    h1 = page.locator("#network g.neuron[data-unit=h1]").text_content()
    assert "net 0.3775" in h1 and "out 0.5933" in h1
    step(page, "net-stepper", 3)                                              # ∂E/∂out, δ, gradients of layer 2
    assert "δ 0.1385" in page.locator("#network g.neuron[data-unit=o1]").text_content()
    assert read_number(page.locator("[data-grad=w5]").text_content()) == pytest.approx(0.082167, abs=1e-6)
    step(page, "net-stepper", 4)                                              # layer 1, then the SGD step
    assert page.locator("#net-stepper [data-step=next]").is_disabled()
    w5 = read_number(page.locator("[data-after=w5]").text_content())
    assert w5 == pytest.approx(0.35891648, abs=5e-7)                          # shown as 0.358916
    assert read_number(page.locator("[data-after=w1]").text_content()) == pytest.approx(0.149780716, abs=5e-7)
    page.hover("#network g.wire[data-weight=w5] text.w-label >> nth=0")
    explain = page.locator("#net-explain").inner_text()
    assert "∂E/∂w5 = δ_o1 · out_h1 = 0.138499 · 0.593270 = 0.082167" in explain
    assert "w5⁺ = w5 − η · ∂E/∂w5 = 0.400000 − 0.5000 · 0.082167 = 0.358916" in explain
    shot(page, "lesson-backprop-network")
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(100)   # one frame for the resize redraw
    assert read_number(page.locator("[data-after=w5]").text_content()) == pytest.approx(0.35891648, abs=5e-7)
    assert page.evaluate("document.documentElement.scrollWidth") <= 392          # only the diagram scrolls sideways
    shot(page, "lesson-backprop-network-phone")


def test_editing_a_weight_recomputes_through_the_endpoint(page, server):
    open_lesson(page, "network")
    page.wait_for_selector("#network g.neuron[data-unit=o1]")
    page.click("#net-stepper [data-step=end]")
    page.fill("#edit-w5", "0.5")
    page.press("#edit-w5", "Tab")
    preset = NETWORK_PRESETS[0]
    spec = copy.deepcopy({k: preset[k] for k in ("model", "x", "y", "learning_rate")})   # the preset stays as it is
    spec["model"]["layers"][1]["weights"]["W"] = [[0.5, 0.50], [0.45, 0.55]]
    want = httpx.post(f"{server.url}/api/lessons/backprop", json=spec).json()["layers"][1]["W_after"][0][0]
    page.wait_for_function(f"document.querySelector('[data-after=w5]').textContent.includes('{want:.6f}')")
    assert page.locator("#net-stepper").get_attribute("data-at") == "9"          # the step is kept on an edit


def test_the_circuit_steps_forward_then_backward_to_the_lectures_gradients(page, shot):
    open_lesson(page)
    page.wait_for_selector("#graph g.node[data-op=mul]")
    assert page.locator("#expr-text").input_value() == "(x + y) * z"
    step(page, "graph-stepper", 2)                                            # x + y = 3, then 3 · −4 = −12
    assert "3 × −4 = −12" in page.locator("#graph-explain").inner_text()
    step(page, "graph-stepper", 1)                                            # the multiply gate backward
    explain = page.locator("#graph-explain").inner_text()
    assert "upstream ∂f/∂out = 1" in explain and "−4 × 1 = −4" in explain and "3 × 1 = 3" in explain
    step(page, "graph-stepper", 1)
    grads = {n: page.locator(f"#graph g.node[data-op=input]:has(text.v-name:text-is('{n}')) text.v-grad").text_content()
             for n in ("x", "y", "z")}
    assert grads == {"x": "−4", "y": "−4", "z": "3"}
    shot(page, "lesson-backprop-graph")


def test_a_typed_expression_gets_its_variables_and_a_refused_one_its_reason(page):
    open_lesson(page)
    page.wait_for_selector("#graph g.node[data-op=mul]")
    page.fill("#expr-text", "q * q + 1")
    page.wait_for_selector("#value-q")
    assert page.locator("#value-x").count() == 0
    page.fill("#value-q", "3")
    page.press("#value-q", "Tab")
    page.click("#graph-stepper [data-step=end]")
    page.wait_for_function("document.getElementById('graph-explain').textContent.includes('∂f/∂q = 6')")
    page.watch.expect("/api/lessons/expression", 422)
    page.fill("#expr-text", "q.__class__")
    page.wait_for_function("document.getElementById('expr-error').textContent.includes('no attributes')")


def test_cross_entropy_and_squared_error_side_by_side(page, shot):
    open_lesson(page, "saturation")
    page.wait_for_selector(".sat-card[data-loss=binary_crossentropy]")
    assert page.locator("[data-grad=half_squared_error]").inner_text() == "0.017345"
    assert page.locator("[data-grad=binary_crossentropy]").inner_text() == "0.982014"
    shot(page, "lesson-backprop-saturation")


def test_the_default_graph_fits_a_phone_card_with_its_output_in_sight(browser, server):
    phone = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}
    context = browser.new_context(base_url=server.url, **phone)
    try:
        pg = context.new_page()
        open_lesson(pg)
        pg.wait_for_selector("#graph text.v-name")
        card = pg.locator(".graph-wrap").first.bounding_box()
        out = pg.locator("#graph text.v-name", has_text="f").last.bounding_box()   # the output's name, at the right
        assert out["x"] + out["width"] <= card["x"] + card["width"], (out, card)   # not scrolled out of sight
        assert pg.evaluate("document.querySelector('.graph-wrap').scrollWidth <= "
                           "document.querySelector('.graph-wrap').clientWidth + 1")
    finally:
        context.close()
