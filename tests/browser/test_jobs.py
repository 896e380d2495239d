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
    page.click(f"button[aria-label='keep run {job}']")          # delete asks first; Keep keeps it
    assert httpx.get(f"{server.url}/api/jobs/{job}", timeout=30).status_code == 200
    page.click(f"button[aria-label='delete run {job}']")
    page.wait_for_selector(f"button[aria-label='confirm delete run {job}']")   # the row redraws on the next frame
    assert "delete run and model?" in page.locator(f"#jobs-table tr[data-job='{job}']").inner_text()
    page.click(f"button[aria-label='confirm delete run {job}']")
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


def rows(page) -> list[str]:
    """The table's run ids in order, after the frame that draws the latest sort or filter."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return page.locator("#jobs-table tbody tr").evaluate_all("trs => trs.map(t => t.dataset.job)")


def test_runs_have_readable_names_and_can_be_renamed_on_the_page(page, server):
    (job,) = finished_jobs(server, [small_spec("adagrad")])
    page.goto("/jobs")
    name = page.locator(f"#jobs-table tr[data-job='{job}'] .run-name")
    assert name.inner_text() == "xor · 6 tanh · adagrad 0.05"          # the server's name (engine/naming.py)
    page.click(f"button[aria-label='rename run {job}']")
    field = page.locator(f"input[aria-label='new name for run {job}']")
    field.fill("my xor run")
    field.press("Enter")
    page.wait_for_function(f"document.querySelector(\"tr[data-job='{job}'] .run-name\")?.textContent === 'my xor run'")
    assert httpx.get(f"{server.url}/api/jobs/{job}", timeout=30).json()["name"] == "my xor run"


def test_runs_sort_by_a_column_and_filter_by_optimizer_and_best_metric(page, server):
    slow = small_spec("sgd")
    slow["training"]["optimizer"] = {"name": "sgd", "learning_rate": 0.001}    # learns little in 40 epochs
    sgd, adam = finished_jobs(server, [slow, small_spec("adam")])
    page.goto("/jobs")
    page.wait_for_selector(f"#jobs-table tr[data-job='{adam}']")
    page.click("#jobs-table th[data-sort=lr] button")                  # numbers: largest first
    page.wait_for_selector("#jobs-table th[data-sort=lr][aria-sort=descending]")   # drawn on the next frame
    order = rows(page)
    assert order.index(adam) < order.index(sgd)
    page.click("#jobs-table th[data-sort=lr] button")                  # again: the other way round
    page.wait_for_selector("#jobs-table th[data-sort=lr][aria-sort=ascending]")
    order = rows(page)
    assert order.index(sgd) < order.index(adam)
    page.select_option("#filter-optimizer", "adam")
    page.wait_for_selector(f"#jobs-table tr[data-job='{sgd}']", state="detached")   # redrawn on the next frame
    assert adam in rows(page) and sgd not in rows(page)
    page.select_option("#filter-optimizer", "")
    page.wait_for_selector(f"#jobs-table tr[data-job='{sgd}']")
    page.select_option("#filter-lr", "0.001")
    page.wait_for_selector(f"#jobs-table tr[data-job='{adam}']", state="detached")
    # other tests' runs share this server: every row left has lr 0.001, and ours is among them
    assert sgd in rows(page) and adam not in rows(page)
    page.select_option("#filter-lr", "")
    def best_of(job_id):   # the page's rule: the best epoch's record, else the latest (a k-NN run has no best epoch)
        job = httpx.get(f"{server.url}/api/jobs/{job_id}", timeout=30).json()
        return (job["best"] or job["latest"])["test_accuracy"]
    best = best_of(adam)
    page.fill("#filter-best", str(best))
    page.wait_for_selector(f"#jobs-table tr[data-job='{sgd}']", state="detached")   # learned less than adam
    assert adam in rows(page) and all(best_of(j) >= best for j in rows(page))
    page.select_option("#filter-status", "completed")
    page.wait_for_function("document.getElementById('jobs-count').textContent.includes('shown')")


def test_compare_shows_only_differing_settings_and_can_overlay_train_curves(page, server, shot):
    slower = small_spec("adam")
    slower["training"]["optimizer"]["learning_rate"] = 0.02
    fast, slow = finished_jobs(server, [small_spec("adam"), slower])
    page.goto("/jobs")
    page.check(f"input[data-job='{fast}']")
    page.check(f"input[data-job='{slow}']")
    page.wait_for_selector("#compare-loss[data-series='2']")
    table = page.locator("#settings-diff")
    settings = table.locator("tbody td:first-child").all_inner_texts()
    assert settings == ["training.optimizer.learning_rate"]               # the only difference
    assert table.locator("tbody td").all_inner_texts()[1:] == ["0.05", "0.02"]
    page.check("#compare-all")
    page.wait_for_function("Number(document.getElementById('settings-diff').dataset.rows) > 10")
    assert "dataset.name" in page.locator("#settings-diff").inner_text()
    page.check("#compare-train")                                         # train curves too, dashed
    page.wait_for_selector("#compare-loss[data-series='4']")
    assert "(train)" in page.locator("#compare-legend").inner_text()
    shot(page, "jobs_compare_1280")


def test_jobs_page_fits_a_390_px_phone_without_sideways_scrolling(page, server, shot):
    finished_jobs(server, [small_spec("sgd")])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/jobs")
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("#jobs-table tbody tr[data-job]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    table = page.evaluate("document.querySelector('.table-wrap').scrollWidth")
    assert table <= 390, f"the runs table scrolls sideways inside its box ({table}px)"
    shot(page, "jobs_390")


def test_a_run_on_big_inline_data_downloads_its_whole_spec(page, server):
    from engine.datasets.inline import ECHO_VALUES
    import numpy as np
    rows, cols = 5000, ECHO_VALUES // 5000 + 1          # (rows, cols) x: more numbers than a job's answer echoes
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (rows, cols)).round(3)
    spec = {"dataset": {"name": "inline", "x": x.tolist(), "y": (x[:, 0] > 0).astype(int).tolist()},
            "model": {"input_shape": [cols], "layers": [{"type": "dense", "units": 2, "activation": "softmax"}],
                      "loss": "categorical_crossentropy"},
            "training": {"epochs": 1, "batch_size": 256}, "stream": {"boundary": False, "histograms": False}}
    with httpx.Client(base_url=server.url, timeout=60) as c:
        job = c.post("/api/jobs", json=spec).raise_for_status().json()
    assert job["spec"]["dataset"]["x"]["omitted"] is True            # the answer summarises the rows
    page.goto(f"/jobs/{job['id']}")
    page.wait_for_selector("text=spec (.json)")
    assert page.locator("a:has-text('open in playground')").count() == 0   # a URL cannot carry the rows
    with page.expect_download() as info:
        page.click("text=spec (.json)")
    import json
    with open(info.value.path()) as f:
        downloaded = json.load(f)
    assert downloaded["dataset"]["x"] == x.tolist()                   # the whole data, from /spec
