"""The playground page in a real browser against a real server: train, pause/step/resume, share links."""
from __future__ import annotations

import pytest
from browser_support import URL_STATE, builder_settled, open_playground, set_number, stat

pytestmark = pytest.mark.browser

RECORD_EPOCHS = """() => {
  window.__epochs = [];
  const hm = document.getElementById('heatmap');
  new MutationObserver(() => window.__epochs.push(hm.dataset.epoch))
    .observe(hm, { attributes: true, attributeFilter: ['data-epoch'] });
}"""


# where the preview's points land on the heatmap and the colour found at each centre.
# returns {train: [[r, g, b, label]...], test: [...], classPixels, outlinePixels}: pixels in a class colour, and
# near-black pixels (the outline of test points)
POINT_PIXELS = """async () => {
  const state = (%s)();
  const res = await fetch('/api/datasets/preview', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                                     body: JSON.stringify({ dataset: state.dataset }) });
  const p = await res.json();
  const c = document.getElementById('heatmap');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const [[x0, x1], [y0, y1]] = p.domain;
  const pix = ([x, y]) => [Math.floor((x - x0) / (x1 - x0) * c.width), Math.floor((y1 - y) / (y1 - y0) * c.height)];
  // points that another point covers (the first-screen plot is small; noisy sets overlap) are not sampled
  const all = [...p.points_train.map((q, i) => [...pix(q), p.labels_train[i]]),
               ...p.points_test.map((q, i) => [...pix(q), p.labels_test[i]])];
  // a neighbour's dot or white rim reaches a centre within ~4 px; those centres say nothing about their own dot
  const alone = (px, py) => all.filter(([qx, qy]) => Math.hypot(qx - px, qy - py) < 4.5).length === 1;
  const at = (q, label) => {
    const [px, py] = pix(q);
    if (!alone(px, py)) return null;
    const i = (py * c.width + px) * 4;
    return [d[i], d[i + 1], d[i + 2], label];
  };
  const palette = [[230, 159, 0], [0, 114, 178]];
  let classPixels = 0, outlinePixels = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (palette.some(([r, g, b]) => Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < 40)) classPixels++;
    if (d[i] < 70 && d[i + 1] < 70 && d[i + 2] < 70) outlinePixels++;
  }
  return { train: p.points_train.map((q, i) => at(q, p.labels_train[i])).filter(Boolean),
           test: p.points_test.map((q, i) => at(q, p.labels_test[i])).filter(Boolean), classPixels, outlinePixels,
           n_train: p.points_train.length, n_test: p.points_test.length };
}""" % URL_STATE

CLASS_RGB = [(230, 159, 0), (0, 114, 178)]   # Okabe-Ito orange and blue: classes 0 and 1


def in_class_colour(pixels) -> float:
    """Fraction of [r, g, b, label] samples whose colour is their class's colour."""
    hits = sum(sum(abs(a - b) for a, b in zip(px[:3], CLASS_RGB[int(px[3])])) < 40 for px in pixels)
    return hits / max(1, len(pixels))


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
    builder_settled(page)
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
    builder_settled(page)
    assert "zero gradient" in page.locator("#builder .warnings").inner_text()   # engine.advise's words


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
    page.wait_for_selector("#run-message.bad", timeout=60_000)
    text = page.locator("#run-message").inner_text()
    assert "diverged" in text and "learning rate" in text
    assert page.locator("#play").inner_text() == "Play"   # not frozen: ready for another run


def test_preview_draws_train_points_filled_and_test_points_outlined_before_training(page, shot):
    open_playground(page)
    shown = page.evaluate(POINT_PIXELS)
    assert shown["n_train"] >= 100 and shown["n_test"] >= 100
    assert len(shown["train"]) >= 5 and len(shown["test"]) >= 5   # centres no other dot covers (the spiral is dense)
    # test points are drawn last: most centres have their class's colour (neighbours' rings cover some), ringed in black
    assert in_class_colour(shown["test"]) > 0.6, shown["test"][:5]
    assert shown["outlinePixels"] > 5 * len(shown["test"])
    shot(page, "playground-preview")

    page.uncheck("#show-test")
    page.wait_for_function("document.getElementById('heatmap').dataset.testPoints === '0'")
    hidden = page.evaluate(POINT_PIXELS)
    assert in_class_colour(hidden["train"]) > 0.7, hidden["train"][:5]    # filled in class colour (white rims cover some)
    assert hidden["classPixels"] > 5 * hidden["n_train"]
    assert hidden["outlinePixels"] < shown["outlinePixels"] / 10            # the outlined test points are gone
    page.check("#show-test")
    page.wait_for_function(f"document.getElementById('heatmap').dataset.testPoints === '{shown['n_test']}'")


def test_changing_noise_or_pressing_regenerate_redraws_the_points(page):
    open_playground(page)
    page.wait_for_selector("body[data-preview]")   # the untrained boundary is drawn: the next change is the points
    before = page.evaluate(POINT_PIXELS)
    page.evaluate("window.__plot = document.getElementById('heatmap').toDataURL()")
    set_number(page, page.locator("#data-panel input[data-param=noise]"), 0.4)
    page.wait_for_function("document.getElementById('heatmap').toDataURL() !== window.__plot")
    page.wait_for_function("(%s)().dataset.noise === 0.4" % URL_STATE)
    noisy = page.evaluate(POINT_PIXELS)
    assert in_class_colour(noisy["train"]) > 0.7            # the new points are the ones drawn
    assert [p[:3] for p in noisy["train"]] != [p[:3] for p in before["train"]]

    seed = page.evaluate(URL_STATE)["dataset"]["seed"]
    page.evaluate("window.__plot = document.getElementById('heatmap').toDataURL()")
    page.click("#regenerate")
    page.wait_for_function("document.getElementById('heatmap').toDataURL() !== window.__plot")
    assert page.evaluate(URL_STATE)["dataset"]["seed"] == seed + 1
    assert in_class_colour(page.evaluate(POINT_PIXELS)["train"]) > 0.7


def test_painting_starts_from_the_points_on_screen(page):
    open_playground(page)
    shown = int(page.locator("#heatmap").get_attribute("data-points")) + \
        int(page.locator("#heatmap").get_attribute("data-test-points"))
    page.click("#paint-toggle")
    for fx, fy, cls in ((0.2, 0.2, 0), (0.3, 0.25, 0), (0.8, 0.8, 1), (0.7, 0.75, 1)):
        page.click(f"#data-panel button[aria-label='paint class {cls}']")
        # the paint buttons are in the data panel below the first screen: the plot is back in view for the click
        page.locator("#heatmap").scroll_into_view_if_needed()
        box = page.locator("#heatmap").bounding_box()
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    assert page.locator("#dataset").input_value() == "inline"
    dataset = page.evaluate(URL_STATE)["dataset"]
    assert len(dataset["x"]) == len(dataset["y"]) == shown + 4    # the spiral's points plus the painted ones
    assert dataset["y"][-4:] == [0, 0, 1, 1]
    page.wait_for_function(f"Number(document.getElementById('heatmap').dataset.points) + "
                           f"Number(document.getElementById('heatmap').dataset.testPoints) === {shown + 4}")
    page.uncheck("#show-test")
    page.wait_for_function("document.getElementById('heatmap').dataset.testPoints === '0'")
    assert in_class_colour(page.evaluate(POINT_PIXELS)["train"]) > 0.7


RECORD_JOB_BODIES = """() => {
  window.__jobs = [];
  const real = window.fetch;
  window.fetch = async (url, init) => {
    const res = await real(url, init);
    if (String(url).endsWith('/api/jobs') && init && init.method === 'POST') {
      window.__jobs.push({ ...JSON.parse(init.body), id: (await res.clone().json()).id });
    }
    return res;
  };
}"""


def test_play_runs_until_paused_and_play_after_completed_continues_the_run(page, server):
    open_playground(page)
    assert page.locator("#controls input[data-param=epochs]").input_value() == ""   # open-ended, as TF Playground
    page.evaluate(RECORD_JOB_BODIES)
    page.click("#play")
    page.wait_for_function("parseInt(document.getElementById('stat-epoch').textContent) > 5", timeout=60_000)
    assert "/" not in stat(page, "epoch")
    page.click("#play")
    page.wait_for_selector("body[data-run-status=paused]")
    page.click("#reset")
    page.wait_for_selector("body[data-run-status=idle]")
    assert page.evaluate("window.__jobs")[0]["training"]["epochs"] is None

    set_number(page, page.locator("#controls input[data-param=epochs]"), 30)
    page.click("#play")
    page.wait_for_selector("body[data-run-status=completed]", timeout=60_000)
    assert epoch(page) == 30
    loss_at_30 = float(stat(page, "train-loss"))
    page.click("#play")                       # continues from the last job's weights and optimizer state
    page.wait_for_function("parseInt(document.getElementById('stat-epoch').textContent) === 60", timeout=60_000)
    page.wait_for_selector("body[data-run-status=completed]", timeout=60_000)
    first, second, third = page.evaluate("window.__jobs")
    assert "init_from" not in second and third["init_from"] == {"job_id": second["id"]}
    with server.client() as http:   # the continued job starts where the other ended, not at the start
        before = http.get(f"/api/jobs/{second['id']}/history").json()["epochs"]
        after = http.get(f"/api/jobs/{third['id']}/history").json()["epochs"]
    assert after[0]["train_loss"] < before[0]["train_loss"] * 0.8
    assert after[0]["train_loss"] < loss_at_30 * 1.5

    page.click("#reset")
    page.wait_for_selector("body[data-run-status=idle]")
    page.click("#play")
    page.wait_for_selector("body[data-run-status=completed]", timeout=60_000)
    assert epoch(page) == 30 and "init_from" not in page.evaluate("window.__jobs")[-1]   # Reset starts fresh
