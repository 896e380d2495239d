"""The playground's hidden-space view: a bottleneck preset streams the data and the input grid as its 2-unit
layer sees them, and the picture moves while the network trains."""
from __future__ import annotations


import pytest

from browser_support import open_playground, watched_page, cancel_active_jobs

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport,name", [({"width": 1280, "height": 720}, "hidden_space_1280"),
                                           ({"width": 390, "height": 844}, "hidden_space_390")])
def test_the_hidden_space_view_moves_while_training(browser, server, shot, viewport, name):
    with watched_page(browser, server.url, viewport=viewport) as page:
        open_playground(page)
        page.click("[data-preset=bottleneck_spiral] .preset-apply")
        page.wait_for_function("document.getElementById('hidden-layer').value === '2'")
        page.click("#play")
        page.wait_for_function("Number(document.getElementById('hidden-space-canvas').dataset.frames) >= 3 && "
                               "document.getElementById('hidden-space-canvas').dataset.moved === 'true'",
                               timeout=60_000)
        assert "layer 3" in page.locator("#hidden-space .hidden-note").inner_text()
        page.click("#play")                                  # pause
        page.locator("#hidden-space").scroll_into_view_if_needed()
        shot(page, name)
    cancel_active_jobs(server.url)


def test_the_hidden_layer_can_be_turned_off(page):
    open_playground(page)
    page.click("[data-preset=bottleneck_circle] .preset-apply")
    page.wait_for_function("document.getElementById('hidden-layer').value === '1'")
    page.select_option("#hidden-layer", "")
    page.click("#play")
    page.wait_for_function("Number(document.getElementById('stat-epoch')?.innerText || 0) >= 3", timeout=60_000)
    assert page.locator("#hidden-space-canvas").is_hidden()
