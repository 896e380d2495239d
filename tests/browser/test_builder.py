"""The builder asks the engine (POST /api/models/summary): the output follows the task, the perceptron runs,
formulas are the catalog's, stale weights go, and the lectures' 2-2-2 example gives the published weights."""
from __future__ import annotations

import re

import pytest
from browser_support import URL_STATE, builder_settled, open_playground, set_number, share_link, stat

pytestmark = pytest.mark.browser


def output_head(page) -> tuple[str, str, str]:
    """(units text, output activation, loss) as the output card shows them."""
    card = page.locator("#builder .layer-card.output")
    return (card.locator(".layer-head span").first.inner_text(),
            page.locator("#builder select[data-param=output-activation]").input_value(),
            page.locator("#builder select[data-param=loss]").input_value())


def choose_dataset(page, name):
    page.select_option("#dataset", name)
    page.wait_for_function(f"(%s)().dataset.name === '{name}'" % URL_STATE)
    builder_settled(page)


def remove_hidden_layers(page):
    while page.locator("#builder .layer-card:not(.output)").count():
        page.locator("#builder .layer-card:not(.output) button[aria-label='remove layer']").first.click()
    builder_settled(page)


def test_plane_then_circle_gives_a_classification_output_again_and_trains_past_95_percent(page, shot):
    open_playground(page)
    choose_dataset(page, "plane")
    page.wait_for_function("document.querySelector('#builder select[data-param=loss]').value === 'mean_squared_error'")
    assert output_head(page) == ("1 unit", "linear", "mean_squared_error")

    choose_dataset(page, "circle")
    page.wait_for_function("document.querySelector('#builder select[data-param=loss]').value === 'categorical_crossentropy'")
    assert output_head(page) == ("2 units", "softmax", "categorical_crossentropy")
    assert page.locator("#builder .warnings li.bad").count() == 0

    page.click("#play")                       # open-ended, as in TensorFlow Playground: watch, then pause
    page.wait_for_function("parseFloat(document.getElementById('stat-test-metric').textContent) > 0.95",
                           timeout=60_000)
    page.click("#play")
    page.wait_for_selector("body[data-run-status=paused]")
    assert float(stat(page, "test-metric")) > 0.95
    shot(page, "builder-circle-after-plane")


def test_perceptron_runs_with_one_linear_output_unit_on_two_classes(page):
    open_playground(page)
    choose_dataset(page, "gauss")
    remove_hidden_layers(page)
    page.select_option("#builder select[data-param=loss]", "perceptron")
    page.wait_for_function("document.querySelector('#builder .layer-card.output .layer-head span').textContent === '1 unit'")
    builder_settled(page)
    assert output_head(page) == ("1 unit", "linear", "perceptron")
    assert page.locator("#builder .warnings li.bad").count() == 0
    page.select_option("#optimizer", "sgd")
    page.select_option("#batch-mode", "stochastic")
    assert page.locator("#controls input[data-param=batch_size]").is_hidden()   # the mode says the size
    set_number(page, page.locator("#controls input[data-param=epochs]"), 20)

    page.click("#play")
    page.wait_for_selector("body[data-run-status=completed]", timeout=30_000)
    assert float(stat(page, "test-metric")) > 0.9
    assert page.locator("#run-message.bad").count() == 0


def test_loss_and_penalty_formulas_are_the_catalogs_text(page):
    open_playground(page)
    catalog = page.evaluate("async () => (await fetch('/api/catalog')).json()")
    formula = page.locator("#builder [data-formula=loss]")

    def loss_text(name):
        entry = catalog["losses"][name]
        return entry.get("formula") or entry["doc"]

    assert formula.inner_text() == loss_text(page.locator("#builder select[data-param=loss]").input_value())
    page.select_option("#builder select[data-param=loss]", "hinge")
    page.wait_for_function("document.querySelector('#builder select[data-param=loss]').value === 'hinge'")
    assert page.locator("#builder [data-formula=loss]").inner_text() == loss_text("hinge")
    penalties = page.locator("#controls [data-formula=regularization]").inner_text()
    for p in catalog["regularization"]:
        if p["name"] in ("l1", "l2"):
            assert f"{p['name']}: {p.get('formula') or p['help']}" in penalties


def test_straight_line_warning_considers_the_features(page):
    open_playground(page)
    choose_dataset(page, "circle")
    remove_hidden_layers(page)
    assert "straight" in page.locator("#builder .warnings").inner_text()
    page.check("#data-panel input[data-feature='x1^2']")
    page.check("#data-panel input[data-feature='x2^2']")
    page.wait_for_function("(%s)().dataset.features.length === 4" % URL_STATE)
    builder_settled(page)
    assert "straight" not in page.locator("#builder .warnings").inner_text()


def dense(units, activation, W=None, b=None):
    layer = {"type": "dense", "units": units, "activation": activation}
    if W is not None:
        layer["weights"] = {"W": W, "b": b}
    return layer


def test_resizing_a_layer_drops_the_explicit_weights_that_no_longer_fit(page, server):
    state = {"dataset": {"name": "circle", "features": ["x1", "x2"]},
             "model": {"layers": [dense(2, "tanh", [[0.1, 0.2], [0.3, 0.4]], [0, 0]),
                                  dense(2, "softmax", [[0.5, 0.6], [0.7, 0.8]], [0, 0])],
                       "loss": "categorical_crossentropy"}}
    open_playground(page, share_link(server.url, state))
    builder_settled(page)
    assert page.locator("#builder .warnings li.bad").count() == 0
    assert page.locator("#builder .badge.given").count() == 2
    set_number(page, page.locator("#builder .layer-card input[data-param=units]").first, 3)
    page.wait_for_function("(%s)().model.layers.every((l) => !l.weights)" % URL_STATE)
    builder_settled(page)
    assert page.locator("#builder .badge.given").count() == 0
    assert page.locator("#builder .warnings li.bad").count() == 0
    assert "no longer fit" in page.locator("#builder .warnings").inner_text()


# the lectures' 2-2-2 worked example: one SGD step at learning rate 0.5 on x = (0.05, 0.10), t = (0.01, 0.99)
WORKED = {
    "dataset": {"name": "inline", "x": [[0.05, 0.10]], "y": [[0.01, 0.99]], "task": "regression",
                "test_ratio": 0.0, "features": ["x1", "x2"]},
    "model": {"layers": [dense(2, "sigmoid", [[0.15, 0.25], [0.20, 0.30]], [0.35, 0.35]),
                         dense(2, "sigmoid", [[0.40, 0.50], [0.45, 0.55]], [0.60, 0.60])],
              "loss": "half_squared_error"},
    "training": {"optimizer": {"name": "sgd", "learning_rate": 0.5}, "batch_size": None, "epochs": 1, "seed": 0,
                 "regularization": {"l1": 0, "l2": 0}, "lr_schedule": {"name": "constant"}, "early_stopping": None},
}
# published updated weights, as (key, input index, output index) of W (n_in, n_out)
PUBLISHED = {("0.W", 0, 0): 0.149780716, ("0.W", 1, 0): 0.19956143, ("0.W", 0, 1): 0.24975114,
             ("0.W", 1, 1): 0.29950229, ("1.W", 0, 0): 0.35891648, ("1.W", 1, 0): 0.408666186,
             ("1.W", 0, 1): 0.511301270, ("1.W", 1, 1): 0.561370121}


# a point on a link that no other link covers there, in page coordinates, as a user would aim at it
# (a horizontal wire has a zero-height box, so Playwright's hover cannot target it)
LINK_POINT = """(sel) => {
  const hit = document.querySelector(sel + ' line.hit');
  hit.ownerSVGElement.scrollIntoView({ block: 'center' });
  const box = hit.ownerSVGElement.getBoundingClientRect();
  const at = (k) => Number(hit.getAttribute(k));
  for (const t of [0.5, 0.4, 0.6, 0.3, 0.7, 0.25, 0.75, 0.2, 0.8, 0.15, 0.85]) {
    const x = box.x + at('x1') + (at('x2') - at('x1')) * t, y = box.y + at('y1') + (at('y2') - at('y1')) * t;
    if (document.elementFromPoint(x, y)?.closest('g.link') === hit.parentNode) return [x, y];
  }
  throw new Error('no uncovered point on ' + sel);
}"""


def test_lectures_2_2_2_example_from_a_share_link_shows_the_published_weights_on_hover(page, server, shot):
    open_playground(page, share_link(server.url, WORKED))
    builder_settled(page)
    errors = page.locator("#builder .warnings li.bad").all_inner_texts()
    assert not errors, errors
    assert output_head(page) == ("2 units", "sigmoid", "half_squared_error")   # the link's model is kept

    page.click("#play")
    page.wait_for_selector("body[data-run-status=completed]", timeout=30_000)
    assert page.locator("#run-message.bad").count() == 0, page.locator("#run-message").inner_text()
    page.wait_for_function("""() => [...document.querySelectorAll('#network g.link title')]
        .every((t) => t.textContent !== 'w = ?')""", timeout=10_000)
    for (key, a, b), want in PUBLISHED.items():
        page.mouse.move(*page.evaluate(LINK_POINT, f"#network g.link[data-key='{key}'][data-a='{a}'][data-b='{b}']"))
        tip = page.locator("#network .net-tip").inner_text()
        assert f"{key}[{a}][{b}]" in tip, tip
        got = float(re.search(r"= (-?[0-9.e+-]+)$", tip).group(1))
        assert got == pytest.approx(want, abs=2e-6), (key, a, b, tip)
    shot(page, "builder-worked-example")


IRIS_CSV = """sepal_length,sepal_width,petal_length,petal_width,species
5.1,3.5,1.4,0.2,setosa
4.9,3.0,1.4,0.2,setosa
4.7,3.2,1.3,0.2,setosa
5.0,3.6,1.4,0.2,setosa
7.0,3.2,4.7,1.4,versicolor
6.4,3.2,4.5,1.5,versicolor
6.9,3.1,4.9,1.5,versicolor
5.5,2.3,4.0,1.3,versicolor
6.3,3.3,6.0,2.5,virginica
5.8,2.7,5.1,1.9,virginica
7.1,3.0,5.9,2.1,virginica
6.5,3.0,5.8,2.2,virginica
"""


def test_a_four_column_csv_trains_with_four_inputs_and_three_classes(page):
    open_playground(page)
    page.set_input_files("#csv-upload", files=[{"name": "iris.csv", "mimeType": "text/csv",
                                                "buffer": IRIS_CSV.encode()}])
    page.wait_for_function("(%s)().dataset.name === 'inline'" % URL_STATE)
    page.wait_for_function("document.querySelector('#builder .layer-card.output .layer-head span').textContent === '3 units'")
    builder_settled(page)
    assert page.locator("#builder .builder-summary").inner_text().startswith("4 inputs")
    assert page.locator("#builder .warnings li.bad").count() == 0
    page.wait_for_function("document.querySelectorAll('#network .net-node.input').length === 4")
    assert "2-D points" in page.locator("#data-panel [data-note=preview]").inner_text()
    set_number(page, page.locator("#controls input[data-param=epochs]"), 30)
    page.click("#play")
    page.wait_for_selector("body[data-run-status=completed]", timeout=30_000)
    assert page.locator("#run-message.bad").count() == 0
