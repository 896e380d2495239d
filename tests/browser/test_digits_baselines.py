"""/digits: the baselines as "start from" choices. The linear classifier ends with its ten weight templates
drawn as 28x28 pictures captioned 0-9; k-NN "trains" in one record and says its time per prediction."""
from __future__ import annotations

import re

import pytest

from browser_support import MNIST_DIR, watched_page
from test_digits import open_digits

pytestmark = pytest.mark.browser
HAVE_MNIST = (MNIST_DIR / "train-images-idx3-ubyte.gz").exists()


# what the builder shows once a choice is applied (data-pending=false alone can be the state before it)
SHOWN = {"linear classifier (784-10)": "document.querySelectorAll('#digit-builder .layer-card[data-index]').length === 1",
         "k-nearest neighbours (no training)": "document.querySelector('#digit-builder .knn-card') !== null"}


def _start(page, choice, limit):
    page.select_option("#preset", choice)
    page.wait_for_function(SHOWN[choice])
    page.wait_for_selector("#digit-builder[data-pending=false]")
    page.fill("#limit", str(limit))
    page.press("#limit", "Tab")


@pytest.mark.skipif(not HAVE_MNIST, reason=f"no MNIST files in {MNIST_DIR}")
@pytest.mark.parametrize("viewport,name", [({"width": 1280, "height": 720}, "digits_linear_1280"),
                                           ({"width": 390, "height": 844}, "digits_linear_390")])
def test_the_linear_classifier_draws_its_ten_templates(browser, server, shot, viewport, name):
    with watched_page(browser, server.url, viewport=viewport) as page:
        open_digits(page)
        _start(page, "linear classifier (784-10)", 2000)
        # one dense layer after the flatten: no hidden layer card but the flatten
        assert page.locator("#digit-builder .layer-card[data-index]").count() == 1
        page.click("#train")
        page.wait_for_selector("#linear-templates:not([hidden]) #linear-templates-grid[data-count='10']",
                               timeout=120_000)
        captions = page.locator("#linear-templates-grid figcaption").all_inner_texts()
        assert captions == [str(k) for k in range(10)]
        size = page.locator("#linear-templates-grid canvas").first.evaluate("c => [c.width, c.height]")
        assert size == [28, 28]
        # a template is a picture, not a flat field: its pixels take many values
        spread = page.locator("#linear-templates-grid canvas").nth(0).evaluate(
            """c => { const d = c.getContext('2d').getImageData(0, 0, 28, 28).data; const s = new Set();
                      for (let i = 0; i < d.length; i += 4) s.add(d[i]); return s.size; }""")
        assert spread > 20
        acc = re.search(r"test accuracy ([\d.]+)%", page.locator("#baseline-result").inner_text())
        assert acc and 75 < float(acc.group(1)) < 95     # 2,000 images, 5 epochs: well above chance, below a CNN
        page.locator("#linear-templates").scroll_into_view_if_needed()
        shot(page, name)


@pytest.mark.skipif(not HAVE_MNIST, reason=f"no MNIST files in {MNIST_DIR}")
def test_knn_on_digits_reports_accuracy_and_time_per_prediction_and_draws_no_templates(browser, server, shot):
    with watched_page(browser, server.url) as page:
        open_digits(page)
        _start(page, "k-nearest neighbours (no training)", 1000)
        page.wait_for_selector("#digit-builder .knn-card", state="visible")   # the builder redraws after the Tab
        page.click("#train")
        page.wait_for_function("/ms per test image/.test(document.getElementById('baseline-result').innerText)",
                               timeout=120_000)
        text = page.locator("#baseline-result").inner_text()
        acc = float(re.search(r"test accuracy ([\d.]+)%", text).group(1))
        per = float(re.search(r"([\d.]+) ms per test image", text).group(1))
        assert 80 < acc < 95 and per > 0 and "no training" in text
        page.wait_for_selector("#confusion table", timeout=60_000)      # the evaluation works for a k-NN too
        assert page.locator("#linear-templates").is_hidden()
        page.locator("#baseline-result").scroll_into_view_if_needed()
        shot(page, "digits_knn_1280")
