"""The optimizers and initialization lessons in a real browser on a real server: seven optimizers race on
Rosenbrock and seven paths are drawn, a click moves the start, the phase diagram fills; switching initializers
makes the last layer's histogram collapse (and saturate)."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser

# the racers' colours as the page draws them (Okabe-Ito without yellow)
RACE_COLORS = ["#E69F00", "#0072B2", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000"]
COLOR_PIXELS = """([sel, colors]) => {
  const c = document.querySelector(sel); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const rgb = colors.map(h => [1, 3, 5].map(i => parseInt(h.slice(i, i + 2), 16)));
  const n = rgb.map(() => 0);
  for (let i = 0; i < d.length; i += 4) rgb.forEach(([r, g, b], k) => {
    if (Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < 12) n[k]++; });
  return n; }"""


def open_lesson(page, path):
    page.goto(path)
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("body[data-pending=false]")


def test_seven_optimizers_race_on_rosenbrock_and_draw_seven_paths(page, shot):
    open_lesson(page, "/lessons/optimizers")
    assert page.locator("#surface").input_value() == "rosenbrock"
    assert page.locator("#surface-map").get_attribute("data-paths") == "7"
    assert page.locator(".optimizer-row").count() == 7
    page.select_option("#speed", "300")
    page.click("#play")
    page.wait_for_function("document.getElementById('surface-map').dataset.step === '300'", timeout=20000)
    shot(page, "lesson-optimizers-race")
    counts = page.evaluate(COLOR_PIXELS, ["#surface-map", RACE_COLORS])
    assert all(n > 20 for n in counts), counts   # every path is on the map
    assert page.locator("#step-count").inner_text() == "step 300 / 300"
    assert page.locator(".race-row").count() == 7


def test_the_race_animates_frame_by_frame(page):
    open_lesson(page, "/lessons/optimizers")
    page.select_option("#speed", "60")
    page.click("#play")
    # frames drawn per second while playing, reported by the animation loop after its first second
    page.wait_for_function("Number(document.body.dataset.fps) > 0", timeout=10000)
    fps, frame_ms = int(page.evaluate("document.body.dataset.fps")), float(page.evaluate("document.body.dataset.frameMs"))
    print(f"optimizers lesson: {fps} frames per second in headless Chromium, {frame_ms} ms to draw each")
    assert fps >= 10 and frame_ms < 16.7       # each frame's drawing fits in a 60 Hz frame
    step = int(page.locator("#surface-map").get_attribute("data-step"))
    assert 0 < step < 300
    page.click("#play")   # pause
    assert page.locator("#play").inner_text() == "Play"
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")  # the last frame is drawn
    paused = int(page.locator("#surface-map").get_attribute("data-step"))
    page.click("#step")
    page.wait_for_function(f"document.getElementById('surface-map').dataset.step === '{paused + 1}'")


def test_clicking_the_map_moves_the_start_of_every_path(page):
    open_lesson(page, "/lessons/optimizers")
    before = json.loads(page.locator("#surface-map").get_attribute("data-start"))
    box = page.locator("#surface-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.25)
    page.wait_for_function(f"document.getElementById('surface-map').dataset.start !== '{json.dumps(before, separators=(',', ':'))}'")
    x, y = json.loads(page.locator("#surface-map").get_attribute("data-start"))
    # rosenbrock's domain is [-2, 2] x [-1, 3]: three quarters across, a quarter down
    assert x == pytest.approx(1.0, abs=0.05) and y == pytest.approx(2.0, abs=0.05)


def test_phase_diagram_fills_for_the_ravine(page):
    open_lesson(page, "/lessons/optimizers")
    page.select_option("#surface", "ravine")
    page.wait_for_function("document.getElementById('surface-doc').textContent.includes('ravine')")
    page.click("#phase-run")
    page.wait_for_function("Number(document.getElementById('phase-map').dataset.cells) === 400", timeout=30000)


def test_unknown_expression_name_is_shown_not_thrown(page):
    open_lesson(page, "/lessons/optimizers")
    page.watch.expect("/api/lessons/optimizers", 422)
    page.select_option("#surface", "__custom__")
    page.fill("#expression", "x**2 + w*y")
    page.press("#expression", "Tab")
    page.wait_for_function("document.getElementById('lesson-error').textContent.includes(\"'w'\")")


def last_layer(page, which):
    fig = page.locator(f"#hists-{which} figure.layer-hist").last
    return float(fig.get_attribute("data-std")), float(fig.get_attribute("data-peak"))


def wait_last_std(page, which, test):
    page.wait_for_function(f"""() => {{ const f = [...document.querySelectorAll('#hists-{which} figure.layer-hist')].pop();
        return f && ({test})(Number(f.dataset.std)); }}""", timeout=30000)


def test_switching_initializers_collapses_the_last_layer(page, shot):
    open_lesson(page, "/lessons/initialization")
    wait_last_std(page, "a", "s => s > 0")
    assert page.locator("#hists-a figure.layer-hist").count() == 10
    page.select_option("#init-a-name", "glorot_normal")
    wait_last_std(page, "a", "s => s > 0.1")
    std, peak = last_layer(page, "a")
    assert peak < 0.3                                       # spread over many bins
    page.select_option("#init-a-name", "random_normal")    # its defaults: stddev 0.01
    assert page.locator("#init-a [data-param=stddev]").input_value() == "0.01"
    wait_last_std(page, "a", "s => s < 1e-3")
    std, peak = last_layer(page, "a")
    assert peak > 0.99                                      # all in the middle bin: collapsed to zero
    shot(page, "lesson-initialization-collapse")
    page.fill("#init-a [data-param=stddev]", "1")
    page.press("#init-a [data-param=stddev]", "Tab")
    wait_last_std(page, "a", "s => s > 0.9")
    flag = page.locator("#hists-a figure.layer-hist").last.locator(".flag").inner_text()
    assert flag.startswith("saturated") and int(flag.split()[1].rstrip("%")) > 80


def test_compare_shows_two_initializers_side_by_side(page):
    open_lesson(page, "/lessons/initialization")
    page.select_option("#init-preset", "glorot_relu")
    page.wait_for_selector("#run-b:not([hidden])")
    wait_last_std(page, "b", "s => s > 0.5")              # he_normal keeps relu's spread
    wait_last_std(page, "a", "s => s < 0.1")              # glorot shrinks it
    assert page.locator("#grad-legend .legend-item").count() == 2
    page.uncheck("#compare")
    assert page.locator("#run-b").is_hidden()
