"""Maxout layers appear in the diagram as what they are (issue 11): the column says "max of P" instead of an
activation picker, and a link's hover gives the unit as the max of its pieces with each piece's weight, read
from the right columns of W (n_in, units * pieces; unit b owns columns b*P .. b*P+P-1)."""
from __future__ import annotations

import pytest

from browser_support import builder_settled, open_playground, share_link

pytestmark = pytest.mark.browser


def test_a_maxout_layer_is_drawn_as_a_max_of_pieces_with_its_own_weights(page, server, shot):
    W = [[0.1, -0.9, 0.3, 0.4, 0.5, 0.6], [0.7, 0.8, -0.2, 0.25, 0.05, 0.15]]   # (2 inputs, 3 units * 2 pieces)
    state = {"dataset": {"name": "xor"},
             "model": {"layers": [{"type": "maxout", "units": 3, "pieces": 2,
                                   "weights": {"W": W, "b": [0, 0, 0, 0, 0, 0]}},
                                  {"type": "dense", "units": 2, "activation": "softmax"}],
                       "loss": "categorical_crossentropy"}}
    open_playground(page, share_link(server.url, state).removeprefix(server.url))
    builder_settled(page)
    head = page.locator(".net-maxout[data-layer='0']")
    assert head.inner_text() == "max of 2"
    assert page.locator(".net-act[data-layer='0']").evaluate("e => e.tagName") == "SPAN"   # no activation picker
    assert page.locator(".net-node.maxout[data-layer='0']").count() == 3
    # the link from input 1 to unit 1 stands for W[0][0] and W[0][1]; its colour follows the larger, -0.9
    link = page.locator("#network .link[data-key='0.W'][data-a='0'][data-b='0']")
    # the weights arrive with the preview, after the diagram is drawn: wait until the link is painted with them
    page.wait_for_function("document.querySelector(\"#network .link[data-key='0.W'][data-a='0'][data-b='0'] title\")"
                           ".textContent.includes('-0.9')")
    link.hover(force=True)
    tip = page.locator(".net-tip").inner_text()
    assert tip.startswith("h = max(") and "0.W[0][0..1] = 0.1, -0.9" in tip, tip
    page.locator("#network").scroll_into_view_if_needed()
    shot(page, "maxout_diagram_1280")
