"""/sweeps in a real browser: a 6-trial sweep started from the page fills the scatter, brushing the parallel
coordinates dims the table, a trial opens in the playground, "narrow" starts the next sweep; phone width too."""
from __future__ import annotations


import httpx
import pytest

from browser_support import watched_page

pytestmark = pytest.mark.browser


def cancel_sweeps(server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        for s in c.get("/api/sweeps").json()["items"]:
            if s["status"] == "running":
                c.post(f"/api/sweeps/{s['id']}/cancel").raise_for_status()


def start_sweep(page, trials: int = 6, epochs: int = 5) -> str:
    page.goto("/sweeps")
    page.wait_for_selector("body[data-ready=true]")
    page.fill("#sweep-n-trials", str(trials))
    page.fill("#sweep-epochs", str(epochs))
    page.fill("#sweep-max-parallel", "2")
    page.click("#sweep-start")
    page.wait_for_function("location.search.startsWith('?id=')")
    return page.evaluate("new URLSearchParams(location.search).get('id')")


def test_a_six_trial_sweep_fills_the_scatter_and_the_table(page, server, shot):
    try:
        sweep_id = start_sweep(page)
        page.wait_for_selector("#sweep-scatter[data-points='6']")
        page.wait_for_selector("#sweep-scatter[data-filled='6']", timeout=120_000)   # every trial has its metric
        page.wait_for_function("document.getElementById('sweep-status').textContent.startsWith('completed')",
                               timeout=120_000)   # the page polls until the sweep has ended
        assert page.locator("#sweep-table tbody tr").count() == 6
        assert "best: trial" in page.locator("#sweep-best").inner_text()
        sweep = httpx.get(f"{server.url}/api/sweeps/{sweep_id}", timeout=30).json()
        assert sweep["counts"] == {"completed": 6}
        shot(page, "sweeps-1280")

        # brush the top half of the first axis (learning rate) of the parallel coordinates
        box = page.locator("#sweep-parallel").bounding_box()
        x = box["x"] + 40
        page.mouse.move(x, box["y"] + 30)
        page.mouse.down()
        page.mouse.move(x, box["y"] + box["height"] * 0.5, steps=5)
        page.mouse.up()
        selected = int(page.locator("#sweep-parallel").get_attribute("data-selected"))
        assert 0 < selected < 6
        assert page.locator("#sweep-table tbody tr.dimmed").count() == 6 - selected
        shot(page, "sweeps-brushed")

        # sort by the metric: the best trial comes first
        page.click("#sweep-table button[data-sort='best']")
        page.click("#sweep-table button[data-sort='best']")
        first = page.locator("#sweep-table tbody tr").first.get_attribute("data-index")
        assert int(first) == sweep["best"]["index"]

        # narrow the ranges around the best: a new sweep, its learning-rate range inside the old one
        page.click("#sweep-narrow")
        page.wait_for_function(f"!location.search.endsWith('{sweep_id}')")
        new_id = page.evaluate("new URLSearchParams(location.search).get('id')")
        narrowed = httpx.get(f"{server.url}/api/sweeps/{new_id}", timeout=30).json()
        lr = narrowed["parameters"]["training.optimizer.learning_rate"]
        assert 1e-4 <= lr["min"] <= sweep["best"]["params"]["training.optimizer.learning_rate"] <= lr["max"] <= 0.1
        httpx.post(f"{server.url}/api/sweeps/{new_id}/cancel", timeout=30).raise_for_status()

        # open a trial in the playground: its own spec as a share link
        page.goto(f"/sweeps?id={sweep_id}")
        page.wait_for_selector("#sweep-scatter[data-filled='6']")
        page.locator("#sweep-table tbody tr[data-index='0'] button", has_text="playground").click()
        page.wait_for_url("**/#s=*")
        page.wait_for_selector("body[data-ready=true]")
        lr0 = sweep["trials"][0]["params"]["training.optimizer.learning_rate"]
        assert page.evaluate("document.querySelector('#sweep-table') === null")
        state = page.evaluate("""() => {
          const raw = new URLSearchParams(location.hash.slice(1)).get('s').replace(/-/g, '+').replace(/_/g, '/');
          return JSON.parse(atob(raw + '='.repeat((4 - raw.length % 4) % 4)));
        }""")
        assert state["training"]["optimizer"]["learning_rate"] == lr0
    finally:
        cancel_sweeps(server)


def test_sweeps_page_fits_a_phone(browser, server, shot):
    with httpx.Client(base_url=server.url, timeout=30) as c:
        base = c.get("/api/catalog").json()["sweeps"]["base"]
        base["training"]["epochs"] = 3
        sweep = c.post("/api/sweeps", json={"base": base, "n_trials": 4, "max_parallel": 2, "parameters": {
            "training.optimizer.learning_rate": {"distribution": "log_uniform", "min": 1e-4, "max": 1e-1}}}).json()
    phone = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
    try:
        with watched_page(browser, server.url, **phone) as pg:
            pg.goto(f"/sweeps?id={sweep['id']}")
            pg.wait_for_selector("#sweep-scatter[data-filled='4']", timeout=60_000)
            assert pg.evaluate("document.documentElement.scrollWidth") <= 390
            for sel in ("#sweep-start", "#sweep-scatter", "#sweep-parallel"):
                box = pg.locator(sel).bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= 390, sel
            shot(pg, "sweeps-390")
    finally:
        cancel_sweeps(server)


def test_a_pasted_playground_link_is_the_sweeps_base(page, server):
    from browser_support import share_link

    link = share_link(server.url, {"dataset": {"name": "circle", "n_samples": 200},
                                   "model": {"layers": [{"type": "dense", "units": 3, "activation": "relu"},
                                                        {"type": "dense", "units": 2, "activation": "softmax"}],
                                             "loss": "categorical_crossentropy"},
                                   "training": {"optimizer": {"name": "sgd", "learning_rate": 0.1}}})
    try:
        page.goto("/sweeps")
        page.wait_for_selector("body[data-ready=true]")
        page.fill("#sweep-run", link)
        page.press("#sweep-run", "Tab")
        page.wait_for_function("document.getElementById('sweep-base-text').textContent.includes('pasted')")
        assert page.locator("#sweep-params tr[data-path='model.layers.0.units']").count() == 1
        page.fill("#sweep-n-trials", "2")
        page.fill("#sweep-epochs", "3")
        page.click("#sweep-start")
        page.wait_for_selector("#sweep-scatter[data-points='2']")
        sweep_id = page.evaluate("new URLSearchParams(location.search).get('id')")
        sweep = httpx.get(f"{server.url}/api/sweeps/{sweep_id}", timeout=30).json()
        assert sweep["base"]["dataset"]["name"] == "circle" and sweep["base"]["model"]["layers"][0]["units"] == 3
        assert sweep["base"]["training"]["optimizer"]["name"] == "sgd"
    finally:
        cancel_sweeps(server)
