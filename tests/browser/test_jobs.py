"""/jobs in a real browser: the table shows runs, several overlay their curves, one opens with downloads."""
from __future__ import annotations

import time

import httpx
import pytest

pytestmark = pytest.mark.browser


def small_spec(optimizer: str) -> dict:
    return {
        "dataset": {"name": "xor", "n_samples": 200, "seed": 1},
        "model": {"input_shape": [2], "layers": [{"type": "dense", "units": 6, "activation": "tanh"},
                                                 {"type": "dense", "units": 2, "activation": "softmax"}],
                  "loss": "categorical_crossentropy"},
        "training": {"optimizer": {"name": optimizer, "learning_rate": 0.05}, "epochs": 40, "batch_size": 20},
        "stream": {"boundary": False, "histograms": False},
    }


def finished_jobs(server, specs) -> list[str]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        ids = [c.post("/api/jobs", json=s).raise_for_status().json()["id"] for s in specs]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = [c.get(f"/api/jobs/{i}").json()["status"] for i in ids]
            if all(s == "completed" for s in states):
                return ids
            time.sleep(0.1)
    raise AssertionError(f"jobs did not finish: {states}")


def test_jobs_table_lists_runs_and_overlays_the_selected_ones(page, server, shot):
    sgd, adam = finished_jobs(server, [small_spec("sgd"), small_spec("adam")])
    page.goto("/jobs")
    page.wait_for_selector("body[data-ready=true]")
    for job in (sgd, adam):
        row = page.locator(f"#jobs-table tr[data-job='{job}']")
        assert "completed" in row.inner_text()
        assert "40/40" in row.inner_text()
    page.check(f"input[data-job='{sgd}']")
    page.check(f"input[data-job='{adam}']")
    page.wait_for_selector("#compare-loss[data-series='2']")
    legend = page.locator("#compare-legend").inner_text()
    assert "sgd" in legend and "adam" in legend

    page.click(f"button[aria-label='open run {adam}']")
    page.wait_for_selector("#detail .downloads")
    hrefs = page.locator("#detail .downloads a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert any(h.endswith("/model") for h in hrefs) and any("format=csv" in h for h in hrefs)
    for h in hrefs:
        if h.startswith("/api/"):
            assert httpx.get(server.url + h, timeout=30).status_code == 200, h
    assert page.url.endswith(f"/jobs/{adam}")
    shot(page, "jobs-compare")


def test_deleting_a_run_removes_its_row(page, server):
    (job,) = finished_jobs(server, [small_spec("rmsprop")])
    page.goto("/jobs")
    page.wait_for_selector(f"#jobs-table tr[data-job='{job}']")
    page.click(f"button[aria-label='delete run {job}']")
    page.wait_for_selector(f"#jobs-table tr[data-job='{job}']", state="detached")
    assert httpx.get(f"{server.url}/api/jobs/{job}", timeout=30).status_code == 404


def test_every_page_loads_without_console_errors_or_outside_requests(page, shot):
    # the page fixture fails the test on console errors and on any request that leaves 127.0.0.1
    for path, name in (("/", "playground"), ("/digits", "digits"), ("/jobs", "jobs")):
        page.goto(path)
        page.wait_for_selector("body[data-ready=true]")
        if path == "/":
            page.wait_for_function("Number(document.getElementById('heatmap').dataset.points) > 0")
        shot(page, f"page-{name}")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_function("Number(document.getElementById('heatmap').dataset.points) > 0")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the phone layout scrolls sideways by {overflow}px"
    shot(page, "page-playground-phone")


def test_a_continued_run_is_marked_and_an_open_ended_one_shows_its_epoch_alone(page, server):
    (first,) = finished_jobs(server, [small_spec("sgd")])
    open_ended = {**small_spec("sgd"), "training": {**small_spec("sgd")["training"], "epochs": None}}
    with httpx.Client(base_url=server.url, timeout=30) as c:
        job = c.post("/api/jobs", json={**open_ended, "init_from": {"job_id": first}}).raise_for_status().json()["id"]
        deadline = time.monotonic() + 30
        while c.get(f"/api/jobs/{job}").json()["epoch"] < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        c.post(f"/api/jobs/{job}/commands", json={"cmd": "pause"}).raise_for_status()
    try:
        page.goto("/jobs")
        cell = page.locator(f"#jobs-table tr[data-job='{job}'] td.num").first
        cell.wait_for()
        assert cell.inner_text().startswith("↳ ") and "/" not in cell.inner_text()
        assert cell.get_attribute("title") == f"continues job {first}"
    finally:
        httpx.post(f"{server.url}/api/jobs/{job}/cancel", timeout=30)
