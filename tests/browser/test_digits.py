"""/digits in a real browser: draw with mouse events (page scrolled) and get the right label, try real MNIST
test digits, and train a model from the page that ends with a confusion matrix and misread digits."""
from __future__ import annotations

import math
import time

import httpx
import pytest

from browser_support import MNIST_DIR, REPO, watched_page

pytestmark = pytest.mark.browser

DEFAULT_MODEL = REPO / "engine" / "assets" / "digit_model.npz"
NO_DEFAULT = f"{DEFAULT_MODEL.relative_to(REPO)} is absent (the shipped digit model is not trained yet)"
HAVE_MNIST = (MNIST_DIR / "train-images-idx3-ubyte.gz").exists()
NO_MNIST = f"no MNIST files in {MNIST_DIR} to train a digit model"

INK_SUM = """sel => { const c = document.querySelector(sel); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i]; return s; }"""
DARK_PIXELS = """sel => { const c = document.querySelector(sel); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 128) n++; return n; }"""


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


def open_digits(page):
    if not DEFAULT_MODEL.exists():
        page.watch.expect("/api/digits/predict", 503)   # the page asks the default model once, then says why
    page.goto("/digits")
    page.wait_for_selector("body[data-ready=true]")


@pytest.fixture(scope="module")
def digit_job(server):
    """A dense MNIST model (3000 images, 2 epochs) trained through the API, as the page's preset would."""
    if not HAVE_MNIST:
        pytest.skip(NO_MNIST)
    spec = {"dataset": {"name": "mnist", "limit": 3000, "flatten": False},
            "model": {"input_shape": [1, 28, 28], "layers": [
                {"type": "flatten"}, {"type": "dense", "units": 128, "activation": "relu"},
                {"type": "dense", "units": 10, "activation": "softmax"}], "loss": "categorical_crossentropy"},
            "training": {"optimizer": {"name": "adam", "learning_rate": 0.001}, "epochs": 2, "batch_size": 64},
            "stream": {"boundary": False, "histograms": False}}
    with httpx.Client(base_url=server.url, timeout=30) as c:
        job = c.post("/api/jobs", json=spec).raise_for_status().json()["id"]
        deadline = time.monotonic() + 120
        while (status := c.get(f"/api/jobs/{job}").json()["status"]) not in ("completed", "failed", "cancelled"):
            assert time.monotonic() < deadline, "the MNIST job did not finish in 2 minutes"
            time.sleep(0.2)
    assert status == "completed"
    return job


def use_model(page, job):
    """The shipped model when it exists, else the given job's."""
    if DEFAULT_MODEL.exists():
        return
    page.wait_for_function(f"[...document.querySelectorAll('#model-choice option')].some(o => o.value === '{job}')")
    page.select_option("#model-choice", job)


def test_digits_drawn_with_the_mouse_on_a_scrolled_page_are_read_correctly(page, server, shot, request):
    job = None if DEFAULT_MODEL.exists() else request.getfixturevalue("digit_job")
    open_digits(page)
    use_model(page, job)
    page.locator("#drawpad").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 40)")      # the pad's box moves; ink must not
    for name, path, label in (("one", one(), "1"), ("zero", zero(), "0")):
        page.click("#clear")
        stroke(page, path)
        page.wait_for_function(f"document.getElementById('prediction').dataset.label === '{label}'", timeout=15_000)
        assert page.evaluate(INK_SUM, "#seen") > 0          # the 28x28 input the model saw is drawn
        shot(page, f"digits-{name}")


def test_try_a_test_digit_shows_a_real_mnist_image_with_its_true_label(page):
    open_digits(page)
    page.click("#sample")
    page.wait_for_function("document.getElementById('sample-info').dataset.label !== ''")
    label = page.locator("#sample-info").get_attribute("data-label")
    assert label in list("0123456789")
    assert "MNIST test image #" in page.locator("#sample-info").inner_text()
    assert page.evaluate(DARK_PIXELS, "#drawpad") > 500          # the digit is on the pad, black on white
    if DEFAULT_MODEL.exists():
        page.wait_for_function("document.getElementById('prediction').dataset.label !== ''", timeout=15_000)
        assert page.evaluate(INK_SUM, "#seen") > 0
    else:
        # without the shipped model the page says so, or reads with a finished MNIST job when there is one
        page.wait_for_function("document.getElementById('predict-error').textContent.includes('not installed')"
                               " || document.getElementById('prediction').dataset.label !== ''", timeout=15_000)


def pinned_sample(index: int):
    """A route handler that asks the server for test digit `index` instead of a random one."""
    return lambda route: route.continue_(url=f"{route.request.url}?index={index}")


@pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason=NO_DEFAULT)
def test_the_shipped_model_reads_the_first_shipped_test_digits_right(page):
    open_digits(page)
    for index in range(5):
        # "Try a test digit" picks at random; pin the index so the expected labels are known
        page.route("**/api/digits/sample", pinned_sample(index))
        page.click("#sample")
        page.wait_for_function(f"document.getElementById('sample-info').textContent.includes('#{index} ')")
        truth = page.locator("#sample-info").get_attribute("data-label")
        page.wait_for_function(f"document.getElementById('prediction').dataset.label === '{truth}'", timeout=15_000)
        page.unroute("**/api/digits/sample")


@pytest.mark.skipif(not HAVE_MNIST, reason=NO_MNIST)
def test_train_right_after_a_change_waits_for_the_engine_to_fit_the_output_layer(page):
    """The builder's output layer is a placeholder until POST /api/models/summary fits it to MNIST (10 units);
    with that answer slowed down, a Train pressed at once must still start from the fitted layer (it was a
    422 'the output layer needs 10 unit(s), not 8' when it raced the summary)."""
    import time

    def slow(route):
        time.sleep(1.5)
        route.continue_()
    page.route("**/api/models/summary", slow)           # from the page's first summary on
    open_digits(page)
    page.locator("#limit").fill("300")
    page.locator("#limit").press("Tab")                  # a dataset change: the summary is asked again
    page.click("#train")                                 # at once, while that answer is on its way
    page.wait_for_function("['completed', 'failed', 'invalid'].includes(document.getElementById('train-status').textContent)",
                           timeout=120_000)
    assert page.locator("#train-status").inner_text() == "completed", page.locator("#eta").inner_text()


@pytest.mark.skipif(not HAVE_MNIST, reason=NO_MNIST)
def test_a_model_trained_on_the_page_ends_with_a_confusion_matrix_and_misread_digits(page, shot):
    open_digits(page)
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
    assert int(page.locator("#digit-histograms").get_attribute("data-frames")) >= 1

    page.wait_for_selector("#confusion table.confusion", timeout=30_000)
    cells = page.locator("#confusion tbody td").evaluate_all("tds => tds.map(td => Number(td.textContent))")
    assert len(cells) == 100
    assert sum(cells) == int(page.locator("#confusion").get_attribute("data-n")) > 0
    diagonal = sum(cells[i * 11] for i in range(10))
    assert diagonal / sum(cells) > 0.7                        # two epochs on 3000 images read most digits
    assert f"{100 * diagonal / sum(cells):.1f}% correct" in page.locator("#confusion .eval-summary").inner_text()
    figures = page.locator("#gallery figure")
    assert figures.count() >= 1
    caption = figures.first.locator("figcaption").inner_text()
    truth, read = caption.split("→")[0].strip(), caption.split("→")[1].split()[0]
    assert truth != read                                      # misread: true label and reading differ
    assert figures.first.locator("canvas").evaluate(
        "c => { const d = c.getContext('2d').getImageData(0, 0, 28, 28).data; let s = 0;"
        " for (let i = 0; i < d.length; i += 4) s += d[i]; return s; }") > 0

    # a click on an off-diagonal cell shows the test digits behind it: true t read as p, as many as the cell says
    miss = page.locator("#confusion td.miss[role=button]").first
    t, p, count = miss.get_attribute("data-label"), miss.get_attribute("data-predicted"), int(miss.inner_text())
    miss.click()
    page.wait_for_selector(f"#cell-digits[data-cell='{t},{p}']")
    shown = page.locator("#cell-gallery figure figcaption").all_inner_texts()
    assert len(shown) == min(count, 24) and all(c.split("→")[0].strip() == t and c.split("→")[1].split()[0] == p
                                                for c in shown)
    assert f"{count} test digit" in page.locator("#cell-title").inner_text()

    # the new job is offered as a model; a test digit is read with it
    job = page.evaluate("[...document.querySelectorAll('#model-choice option')].map(o => o.value).filter(Boolean)[0]")
    page.select_option("#model-choice", job)
    page.click("#sample")
    page.wait_for_function("document.getElementById('prediction').dataset.label !== ''", timeout=15_000)
    shot(page, "digits-trained")


def test_undo_removes_the_last_stroke_and_clear_resets_the_reading(page, request):
    job = None if DEFAULT_MODEL.exists() else request.getfixturevalue("digit_job")
    open_digits(page)
    use_model(page, job)
    stroke(page, one())
    page.wait_for_function("document.getElementById('prediction').dataset.label !== ''")
    page.click("#undo")
    page.wait_for_function("document.getElementById('prediction').dataset.label === ''")
    stroke(page, one())
    page.wait_for_function("document.getElementById('prediction').dataset.label === '1'")
    page.click("#clear")
    page.wait_for_function("document.getElementById('prediction').textContent === '?'")


# ---- phones: touch drawing at device pixel ratio 2 and 3, and no sideways scrolling at 390 px
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


def touch_stroke(page, points):
    """One finger through `points` (fractions of the pad's box) as real touch events (CDP), not the mouse."""
    box = page.locator("#drawpad").bounding_box()
    to = [{"x": box["x"] + fx * box["width"], "y": box["y"] + fy * box["height"]} for fx, fy in points]
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [to[0]]})
    for p in to[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [p]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


@pytest.mark.parametrize("ratio", [2, 3])
def test_digits_drawn_with_a_finger_on_a_phone_are_read_correctly(browser, server, request, ratio):
    job = None if DEFAULT_MODEL.exists() else request.getfixturevalue("digit_job")
    with watched_page(browser, server.url, device_scale_factor=ratio, **PHONE) as page:
        open_digits(page)
        use_model(page, job)
        page.evaluate("""() => { window.kinds = new Set();
          document.getElementById('drawpad').addEventListener('pointerdown', e => window.kinds.add(e.pointerType)); }""")
        page.locator("#drawpad").scroll_into_view_if_needed()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        backing = page.evaluate("(() => { const c = document.getElementById('drawpad'); return c.width / c.clientWidth; })()")
        assert backing == pytest.approx(ratio, rel=0.05)          # a sharp HiDPI backing store
        for path, label in ((one(), "1"), (zero(), "0")):
            page.click("#clear")
            touch_stroke(page, path)
            page.wait_for_function(f"document.getElementById('prediction').dataset.label === '{label}'",
                                   timeout=15_000)
        assert page.evaluate("[...window.kinds]") == ["touch"]   # it was the finger, not an emulated mouse
        page.screenshot(path=str(REPO / "tests" / "browser" / "artifacts" / f"digits_390_dpr{ratio}.png"),
                        full_page=True)


def test_digits_page_fits_a_390_px_phone_without_sideways_scrolling(browser, server):
    with watched_page(browser, server.url, **PHONE) as page:
        open_digits(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason=NO_DEFAULT)
def test_the_first_layers_filters_of_the_chosen_model_are_drawn_as_pictures(page, shot):
    open_digits(page)
    page.click("#first-layer summary")
    page.wait_for_selector("#first-layer-grid[data-count='16']")
    assert page.locator("#first-layer-grid").get_attribute("data-type") == "conv2d"
    assert "16 conv filters, 3×3" in page.locator("#first-layer-note").inner_text()
    colours = page.locator("#first-layer-grid canvas").first.evaluate(
        "c => { const d = c.getContext('2d').getImageData(0, 0, 3, 3).data; const s = new Set();"
        " for (let i = 0; i < d.length; i += 4) s.add(d[i] + ',' + d[i + 1] + ',' + d[i + 2]); return s.size; }")
    assert colours > 1                                   # a pattern, not a flat square
    shot(page, "digits_first_layer_1280")
