"""The playground page in a real browser against a real server: train, pause/step/resume, share links."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

RECORD_EPOCHS = """() => {
  window.__epochs = [];
  const hm = document.getElementById('heatmap');
  new MutationObserver(() => window.__epochs.push(hm.dataset.epoch))
    .observe(hm, { attributes: true, attributeFilter: ['data-epoch'] });
}"""


def open_playground(page, path="/"):
    page.goto(path)
    page.wait_for_selector("body[data-ready=true]")


def set_number(page, locator, value):
    locator.fill(str(value))
    locator.press("Tab")  # commits: fires "change"


def stat(page, name) -> str:
    return page.locator(f"#stat-{name}").inner_text()


def epoch(page) -> int:
    return int(stat(page, "epoch").split("/")[0])


def settled_epoch(page, quiet_ms=800, timeout_ms=10_000) -> int:
    """The epoch once no new epoch has arrived for `quiet_ms` (frames already in flight may land after a pause)."""
    last, still = epoch(page), 0
    for _ in range(timeout_ms // 100):
        page.wait_for_timeout(100)
        now = epoch(page)
        still = still + 100 if now == last else 0
        last = now
        if still >= quiet_ms:
            return now
    raise AssertionError(f"the epoch counter never settled (last {last})")


def test_spiral_network_trains_past_90_percent_with_live_heatmap_and_curves(page, shot):
    open_playground(page)
    assert page.locator("#dataset").input_value() == "spiral"
    units = page.locator("#builder .layer-card input[data-param=units]")
    set_number(page, units.nth(0), 16)
    set_number(page, units.nth(1), 16)
    set_number(page, page.locator("#controls input[data-param=epochs]"), 250)
    assert page.locator(".param-total").inner_text().startswith("354")  # 2*16+16 + 16*16+16 + 16*2+2
    heat_before = page.locator("#heatmap").evaluate("c => c.toDataURL()")
    loss_before = page.locator("#loss-chart").evaluate("c => c.toDataURL()")
    page.evaluate(RECORD_EPOCHS)

    page.click("#play")
    page.wait_for_selector("body[data-run-status=completed]", timeout=60_000)

    assert float(stat(page, "test-metric")) > 0.9
    assert epoch(page) == 250
    seen = [int(e) for e in page.evaluate("window.__epochs") if e]
    assert len(set(seen)) >= 3 and seen[-1] == 250, seen     # the boundary was redrawn while training
    assert page.locator("#heatmap").evaluate("c => c.toDataURL()") != heat_before
    assert page.locator("#loss-chart").evaluate("c => c.toDataURL()") != loss_before
    assert page.locator("#loss-legend").inner_text().count("loss") >= 2
    assert int(page.locator("#histograms").get_attribute("data-frames")) >= 2
    page.wait_for_function("Number(document.getElementById('network').dataset.links) > 0")
    shot(page, "playground-trained")


def test_pause_step_and_resume_control_a_running_job(page, shot):
    open_playground(page)
    set_number(page, page.locator("#controls input[data-param=epochs]"), 20000)
    page.click("#play")
    page.wait_for_function("parseInt(document.getElementById('stat-epoch').textContent) > 0", timeout=30_000)

    page.click("#play")  # the button reads Pause while running
    page.wait_for_selector("body[data-run-status=paused]", timeout=10_000)
    paused_at = settled_epoch(page)

    page.click("#step")
    page.wait_for_function(f"parseInt(document.getElementById('stat-epoch').textContent) === {paused_at + 1}",
                           timeout=10_000)
    page.wait_for_selector("body[data-run-status=paused]", timeout=10_000)
    assert settled_epoch(page) == paused_at + 1       # one epoch, then paused again

    page.click("#play")
    page.wait_for_function(f"parseInt(document.getElementById('stat-epoch').textContent) > {paused_at + 5}",
                           timeout=10_000)
    set_number(page, page.locator("#controls .lr-field input"), 0.005)   # live: sent over the socket
    page.wait_for_function("document.getElementById('stat-lr').textContent === '0.005'", timeout=10_000)
    assert page.locator("body").get_attribute("data-run-status") == "running"   # not reset by the change
    shot(page, "playground-running")
    page.click("#reset")
    page.wait_for_selector("body[data-run-status=idle]")
    assert epoch(page) == 0


def test_share_link_rebuilds_the_same_experiment(page, browser, server):
    open_playground(page)
    page.select_option("#dataset", "circle")
    set_number(page, page.locator("#data-panel input[data-param=noise]"), 0.25)
    page.click("#builder .add-layer")
    set_number(page, page.locator("#controls .lr-field input"), 0.003)
    page.select_option("#optimizer", "rmsprop")
    page.check("#data-panel input[data-feature='x1^2']")
    page.check("#discretize")
    page.click("#share")
    url = page.locator("#share-url").input_value()
    assert url.startswith(server.url) and "#s=" in url

    other = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        p2 = other.new_page()
        p2.goto(url)
        p2.wait_for_selector("body[data-ready=true]")
        assert p2.locator("#dataset").input_value() == "circle"
        assert p2.locator("#data-panel input[data-param=noise]").input_value() == "0.25"
        assert p2.locator("#optimizer").input_value() == "rmsprop"
        assert p2.locator("#controls .lr-field input").input_value() == "0.003"
        assert p2.locator("#builder .layer-card:not(.output)").count() == 3
        assert p2.locator("#data-panel input[data-feature='x1^2']").is_checked()
        assert p2.locator("#discretize").is_checked()
        # the page re-serialises what it loaded: same state, same link
        assert p2.evaluate("location.hash") == page.evaluate("location.hash")
    finally:
        other.close()


def test_step_activation_warns_that_nothing_can_learn(page):
    open_playground(page)
    page.locator("#builder .layer-card select[data-param=activation]").first.select_option("step")
    assert "gradient is zero" in page.locator("#builder .warnings").inner_text()


def test_divergence_ends_with_a_message_and_a_suggestion(page):
    open_playground(page)
    acts = page.locator("#builder .layer-card:not(.output) select[data-param=activation]")
    for i in range(acts.count()):
        acts.nth(i).select_option("relu")
    page.select_option("#builder select[data-param=output-activation]", "linear")
    page.select_option("#builder select[data-param=loss]", "mean_squared_error")
    page.select_option("#optimizer", "sgd")
    set_number(page, page.locator("#controls input[data-param=momentum]"), 0.9)
    set_number(page, page.locator("#controls .lr-field input"), 10)
    page.click("#play")
    page.wait_for_selector("#run-message.bad", timeout=30_000)
    text = page.locator("#run-message").inner_text()
    assert "diverged" in text and "learning rate" in text
    assert page.locator("#play").inner_text() == "Play"   # not frozen: ready for another run


def test_painted_points_become_an_inline_dataset(page):
    open_playground(page)
    page.click("#paint-toggle")
    box = page.locator("#heatmap").bounding_box()
    for fx, fy, cls in ((0.2, 0.2, 0), (0.3, 0.25, 0), (0.8, 0.8, 1), (0.7, 0.75, 1)):
        page.click(f"#data-panel button[aria-label='paint class {cls}']")
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    assert page.locator("#dataset").input_value() == "inline"
    page.wait_for_function("Number(document.getElementById('heatmap').dataset.points) >= 3")
