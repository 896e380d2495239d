"""The baselines a network must beat, in the playground: k-NN (its k slider redraws the boundary live, no job)
and the linear classifier presets (one dense layer, three losses)."""
from __future__ import annotations

import pytest

from browser_support import builder_settled, cancel_active_jobs, open_playground, watched_page

pytestmark = pytest.mark.browser

# the heatmap's pixels, summarised: a different boundary gives a different sum
HEATMAP_SUM = """() => {
  const c = document.getElementById('heatmap');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i] * 3 + d[i + 1] * 5 + d[i + 2] * 7;
  return s;
}"""


def _preview_after(page, seq):
    page.wait_for_function(f"Number(document.body.dataset.preview || 0) > {seq}")
    page.wait_for_timeout(100)            # the frame that paints it
    return int(page.evaluate("document.body.dataset.preview"))


def _set_k(page, k):
    page.evaluate("""(k) => { const s = document.getElementById('knn-k'); s.value = String(k);
                              s.dispatchEvent(new Event('input', {bubbles: true})); }""", k)


@pytest.mark.parametrize("viewport,name", [({"width": 1280, "height": 720}, "knn_playground_1280"),
                                           ({"width": 390, "height": 844}, "knn_playground_390")])
def test_choosing_knn_and_moving_k_redraws_the_boundary_without_a_job(browser, server, shot, viewport, name):
    with watched_page(browser, server.url, viewport=viewport) as page:
        open_playground(page)
        # other tests' runs share this server: the lesson is that this page adds none
        before = page.evaluate("fetch('/api/jobs?limit=1').then(r => r.json())")["total"]
        seq = int(page.evaluate("document.body.dataset.preview || 0"))
        page.select_option("#model-kind", "knn")
        seq = _preview_after(page, seq)
        assert page.locator("#knn-panel").is_visible() and page.locator("#network").is_hidden()
        assert page.locator("#hidden-space").is_hidden()       # no hidden layer to pick
        # the slider's range is the engine's: k from 1 to the spiral's 250 training rows (summary k_range)
        page.wait_for_function("document.getElementById('knn-k').max === '250'")
        _set_k(page, 1)
        seq = _preview_after(page, seq)
        k1 = page.evaluate(HEATMAP_SUM)
        # the engine's scores of that k: with k = 1 each training point is its own nearest neighbour (the two
        # spiral arms both start at the centre, so a point or two there can still miss)
        scores = page.locator(".knn-scores")

        def train_accuracy(k):
            text = scores.inner_text()
            assert text.startswith(f"accuracy with k = {k} (l2): train ") and " · test " in text, text
            return float(text.split("train ")[1].split("%")[0])
        assert train_accuracy(1) >= 99.0
        _set_k(page, 60)
        seq = _preview_after(page, seq)
        k60 = page.evaluate(HEATMAP_SUM)
        assert k1 != k60
        assert train_accuracy(60) < 95.0                          # a wide vote no longer fits every point
        assert page.locator(".knn-k-value").inner_text() == "60"
        state = page.evaluate("fetch('/api/jobs?limit=1').then(r => r.json())")
        assert state["total"] == before       # no job: the preview fits (stores the rows) and draws
        page.select_option("#knn-metric", "l1")
        _preview_after(page, seq)
        assert page.evaluate(HEATMAP_SUM) != k60
        shot(page, name)


def test_knn_play_reports_test_accuracy_in_one_record(page):
    open_playground(page)
    page.select_option("#model-kind", "knn")
    builder_settled(page)
    page.click("#play")
    page.wait_for_function("document.getElementById('stat-test-metric').innerText !== '–'", timeout=30_000)
    acc = float(page.locator("#stat-test-metric").inner_text())
    assert 0.8 < acc <= 1.0                   # k = 5 on the spiral
    page.wait_for_function("document.body.dataset.runStatus === 'completed'", timeout=30_000)


def test_knn_presets_apply_and_leaving_knn_brings_the_network_back(page):
    open_playground(page)
    builder_settled(page)
    page.click("[data-preset=knn_noisy] .preset-apply")
    page.wait_for_function("document.getElementById('knn-k')?.value === '1'")
    assert page.locator("#model-kind").input_value() == "knn"
    page.select_option("#model-kind", "network")
    builder_settled(page)
    assert page.locator("#network").is_visible() and page.locator("#knn-panel").is_hidden()
    assert page.locator("#builder .layer-card[data-index]").count() >= 1


@pytest.mark.parametrize("preset,loss", [("linear_softmax", "categorical_crossentropy"), ("linear_hinge", "hinge"),
                                         ("linear_squared", "mean_squared_error")])
def test_a_linear_classifier_preset_is_one_dense_layer_with_its_loss(browser, server, shot, preset, loss):
    with watched_page(browser, server.url) as page:
        open_playground(page)
        page.click(f"[data-preset={preset}] .preset-apply")
        builder_settled(page)
        assert page.locator("#model-kind").input_value() == "linear"
        assert page.locator("#builder [data-param=loss]").input_value() == loss
        assert page.locator("#builder .layer-card[data-index]").count() == 0     # no hidden layer
        page.click("#play")
        page.wait_for_function("Number(document.getElementById('stat-epoch').innerText.slice(0, 4)) >= 20",
                               timeout=60_000)
        page.click("#play")
        acc = float(page.locator("#stat-test-metric").inner_text())
        assert acc > 0.85                   # gauss: one straight line separates it
        if preset == "linear_hinge":
            shot(page, "linear_hinge_1280")
    cancel_active_jobs(server.url)
