"""A frozen layer ("trainable": false) is shown frozen in the builder and the diagram, and the job trains
with it frozen (the engine keeps its weights bit-identical: tests/engine/test_representations.py)."""
from __future__ import annotations

import json
import urllib.request

import pytest

from browser_support import URL_STATE, builder_settled, open_playground

pytestmark = pytest.mark.browser


def test_a_frozen_layer_is_shown_frozen_and_stays_put_while_training(page, server, shot):
    open_playground(page)
    page.locator("#advanced").scroll_into_view_if_needed()
    page.get_by_label("layer 1 trainable").uncheck()
    builder_settled(page)
    assert page.locator(".layer-card[data-index='0']").get_attribute("class").split().count("frozen") == 1
    assert "frozen" in page.locator(".net-col-label[data-layer='0']").inner_text()
    assert "frozen" not in page.locator(".net-col-label[data-layer='1']").inner_text()
    assert page.evaluate(URL_STATE)["model"]["layers"][0]["trainable"] is False
    before = page.evaluate("() => fetch('/api/models/preview', {method: 'POST', headers: {'content-type': "
                           "'application/json'}, body: JSON.stringify({dataset: {name: 'circle'}, model: {layers: "
                           "[{type: 'dense', units: 2, trainable: false}, {type: 'dense', units: 2, activation: "
                           "'softmax'}], loss: 'categorical_crossentropy'}})}).then(r => r.status)")
    assert before == 200                      # the server takes the flag where the builder sends it
    page.click("#play")
    page.wait_for_function("Number(document.getElementById('stat-epoch').innerText) >= 3", timeout=60_000)
    page.click("#play")
    with urllib.request.urlopen(f"{server.url}/api/jobs?limit=1", timeout=10) as r:
        job = json.load(r)["items"][0]
    assert job["spec"]["model"]["layers"][0]["trainable"] is False
    page.locator("#network").scroll_into_view_if_needed()
    shot(page, "frozen_layer_1280")
