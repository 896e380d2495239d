"""/digits "start from a trained model": fine-tune from a finished run with chosen layers copied, see the engine's
422 when a copied layer's shapes differ, and see the fine-tuned and from-scratch test curves overlaid."""
from __future__ import annotations

import time

import httpx
import pytest

from browser_support import MNIST_DIR, watched_page

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists(), reason="no MNIST files")]

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


@pytest.fixture(scope="module")
def tiny_digit_job(server):
    """A tiny CNN (conv 4 filters, dense 10) trained 1 epoch on 300 digits through the API."""
    spec = {"dataset": {"name": "mnist", "limit": 300, "flatten": False},
            "model": {"input_shape": [1, 28, 28], "layers": [
                {"type": "conv2d", "filters": 4, "kernel_size": 3, "activation": "relu"}, {"type": "flatten"},
                {"type": "dense", "units": 10, "activation": "softmax"}], "loss": "categorical_crossentropy"},
            "training": {"optimizer": {"name": "adam", "learning_rate": 0.001}, "epochs": 1, "batch_size": 64},
            "stream": {"boundary": False, "histograms": False}}
    with httpx.Client(base_url=server.url, timeout=30) as c:
        job = c.post("/api/jobs", json=spec).raise_for_status().json()["id"]
        deadline = time.monotonic() + 120
        while (status := c.get(f"/api/jobs/{job}").json()["status"]) not in ("completed", "failed", "cancelled"):
            assert time.monotonic() < deadline, "the tiny digit job did not finish in 2 minutes"
            time.sleep(0.2)
    assert status == "completed"
    return job


def choose_source(page, job):
    page.goto("/digits")
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_function(f"[...document.querySelectorAll('#ft-source option')].some(o => o.value === '{job}')")
    page.select_option("#ft-source", job)
    page.wait_for_selector("#ft-layers input[data-layer='2']")


def test_fine_tuning_from_a_digit_run_overlays_its_curves_on_training_from_scratch(page, server, tiny_digit_job, shot, browser):
    choose_source(page, tiny_digit_job)
    page.locator("#ft-classes").fill("5, 6, 7, 8, 9")
    page.locator("#ft-limit").fill("300")
    page.locator("#ft-epochs").fill("2")
    # the output layer (10 units) cannot go into a 5-class network: the engine's 422 is shown as it says it
    page.check("#ft-layers input[data-layer='2']")
    page.watch.expect("/api/jobs", 422)
    page.click("#ft-start")
    page.wait_for_function("document.getElementById('ft-error').textContent.includes('init_from.layers')")
    assert page.locator("#ft-curves").get_attribute("data-series") == "0"

    page.uncheck("#ft-layers input[data-layer='2']")
    for i in ("0", "1"):
        page.locator(f"#ft-layers input[data-layer='{i}']").set_checked(i == "0")
    page.check("#ft-freeze")
    page.click("#ft-start")
    page.wait_for_function("document.getElementById('ft-curves').dataset.series === '2'", timeout=120_000)
    page.wait_for_function("(document.getElementById('ft-status').textContent.match(/completed/g) || []).length === 2",
                           timeout=120_000)
    assert page.locator("#ft-error").inner_text() == ""
    legend = page.locator("#ft-acc-legend").inner_text()
    assert "from the trained model" in legend and "from scratch" in legend

    with httpx.Client(base_url=server.url, timeout=30) as c:
        items = c.get("/api/jobs", params={"limit": 10}).json()["items"]
    tuned = next(j for j in items if j.get("init_from"))
    assert tuned["init_from"] == {"job_id": tiny_digit_job, "layers": [0]}
    assert tuned["spec"]["model"]["layers"][0].get("trainable") is False
    assert tuned["spec"]["dataset"]["classes"] == [5, 6, 7, 8, 9]
    assert tuned["spec"]["model"]["layers"][-1]["units"] == 5        # the engine's head for five classes
    scratch = next(j for j in items if not j.get("init_from") and j["id"] != tiny_digit_job)
    assert scratch["spec"]["training"]["epochs"] == tuned["spec"]["training"]["epochs"]
    page.locator("#h-finetune").scroll_into_view_if_needed()
    shot(page, "digits-finetune")

    with watched_page(browser, server.url, **PHONE) as phone:
        choose_source(phone, tiny_digit_job)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        phone.locator("#h-finetune").scroll_into_view_if_needed()
        shot(phone, "digits-finetune-390")
