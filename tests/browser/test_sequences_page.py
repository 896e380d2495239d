"""/sequences in a real browser: train the memory preset a few epochs and see the gradient-through-time chart
and the recall table; train a small char model and sample text; phone width too."""
from __future__ import annotations


import pytest

from browser_support import watched_page

pytestmark = pytest.mark.browser


def open_sequences(page, preset: str):
    page.goto("/sequences")
    page.wait_for_selector("body[data-ready=true]")
    page.select_option("#seq-preset", preset)
    page.wait_for_function("document.getElementById('seq-summary').textContent.includes('parameters')")


def train(page, **fields):
    for name, value in fields.items():
        page.fill(f"#seq-{name}", str(value))
        page.press(f"#seq-{name}", "Tab")
    page.wait_for_function("document.getElementById('seq-summary').textContent.includes('parameters')")
    page.click("#seq-train")
    page.wait_for_selector("#seq-status[data-done='completed']", timeout=240_000)


def test_memory_preset_trains_and_shows_gradient_through_time_and_the_recall_table(page, shot):
    open_sequences(page, "rnn_forgets")
    assert page.locator("#seq-cell").input_value() == "simple_rnn"
    assert "50 steps" in page.locator("#seq-preset option:checked").inner_text()
    train(page, len=12, samples=200, epochs=3)
    page.wait_for_selector("#seq-examples tbody tr")
    frames = int(page.locator("#seq-time").get_attribute("data-frames"))
    assert frames >= 2                                   # epoch 0 and the last epoch at least
    rows = page.locator("#seq-examples tbody tr")
    assert rows.count() == 8
    verdicts = {rows.nth(i).locator("td").last.inner_text() for i in range(8)}
    assert verdicts <= {"recalled", "forgot"} and verdicts
    assert "simple_rnn" in page.locator("#seq-time").get_attribute("aria-label")
    shot(page, "sequences-memory-1280")


def test_char_model_samples_text_after_training(page, shot):
    open_sequences(page, "char_rnn")
    assert page.locator("#seq-task").input_value() == "text"
    train(page, len=10, samples=300, units=16, epochs=2)
    page.wait_for_selector("#seq-sample-list li")
    sample = page.locator("#seq-sample-list li").first.inner_text()
    assert sample.startswith("epoch 2 (final): ROMEO:") and len(sample) > len("epoch 2 (final): ROMEO:") + 100
    assert page.locator("#seq-examples tbody tr").count() == 8
    page.click("#seq-sample")
    page.wait_for_function("document.querySelectorAll('#seq-sample-list li').length >= 2")
    texts = page.locator("#seq-sample-list li").all_inner_texts()
    assert texts[0] != texts[1]                        # "Sample now" draws with a new seed
    shot(page, "sequences-text-1280")


def test_sequences_page_fits_a_phone(browser, server, shot):
    phone = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
    with watched_page(browser, server.url, **phone) as pg:
        open_sequences(pg, "lstm_remembers")
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= 392, f"page is {width}px wide on a 390px phone"
        assert pg.locator("#seq-time").bounding_box()["width"] <= 390
        shot(pg, "sequences-phone")
