"""The playground in a real headless Chromium: train XOR to 100 %, step through a step, compare every number
shown with the engine's own trace of the same state."""
import os

import numpy as np
import pytest

from glassnet.trace import StepTrace
ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "..", "artifacts")


def _open(browser, url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_function("document.body.dataset.session !== undefined")
    return page, errors


def _new_network(page, **settings):
    before = page.evaluate("document.body.dataset.session")
    for field, value in settings.items():
        if field in ("dataset", "activation", "optimizer", "cost"):
            page.select_option(f"#{field}", value)
        else:
            page.fill(f"#{field}", str(value))
    page.click("#apply")
    page.wait_for_function(f"document.body.dataset.session !== '{before}'")
    return page.evaluate("document.body.dataset.session")


def test_train_xor_to_full_accuracy_and_step_through(server, browser):
    url, app = server
    page, errors = _open(browser, url)
    session_id = _new_network(page, dataset="xor", hidden="4", activation="tanh", lr="0.5", batch="4", seed="1")
    page.click("#start")
    page.wait_for_function("document.getElementById('accuracy').textContent === '100.0%'", timeout=60_000)
    assert float(page.get_attribute("#accuracy", "data-value")) == 1.0
    page.click("#start")  # pause
    page.wait_for_function("document.getElementById('start').textContent === 'start'")
    session = app.state.store.get(session_id)
    np.testing.assert_array_equal(session.network.predict(session.X), session.y)

    # step-through: the page's numbers must equal the engine's trace of the same state
    before = session.network.copy()
    x, y = session.step_rows()
    expected = StepTrace(before, x, y, session.config["learning_rate"])
    page.click("#step")
    page.wait_for_selector("#trace-table td[data-kind='z']")
    shown = lambda kind: page.eval_on_selector_all(  # noqa: E731
        f"#trace-table td[data-kind='{kind}']", "cells => cells.map(c => ({...c.dataset, text: c.textContent}))")
    for cell in shown("a") + shown("z"):
        record = expected.layers[int(cell["layer"]) - 1]
        value = (record.a if cell["kind"] == "a" else record.z)[0, int(cell["unit"]) - 1]
        assert float(cell["value"]) == value
    n_layers = len(expected.layers)
    for stage in range(n_layers):
        page.click("#next-stage")
        layer = n_layers - stage
        page.wait_for_selector(f"#trace-table td[data-kind='delta'][data-layer='{layer}']")
        for cell in shown("delta"):
            assert float(cell["value"]) == expected.layers[layer - 1].delta[0, int(cell["unit"]) - 1]
    page.click("#next-stage")
    page.wait_for_selector("#trace-table td[data-kind='W_new']")
    cells = shown("W") + shown("grad_W") + shown("W_new") + shown("b_new")
    assert len(shown("W_new")) == sum(r.W.size for r in expected.layers)
    for cell in cells:
        record = expected.layers[int(cell["layer"]) - 1]
        array = {"W": record.W, "grad_W": record.grad_W, "W_new": record.W_new, "b_new": record.b_new}[cell["kind"]]
        index = (int(cell["to"]) - 1,) if cell["kind"] == "b_new" else (int(cell["from"]) - 1, int(cell["to"]) - 1)
        assert float(cell["value"]) == array[index]
    assert float(page.get_attribute("#cost-after", "data-value")) == expected.cost_after
    # and the server's network now holds exactly the traced update
    for record, layer in zip(expected.layers, session.network.layers):
        np.testing.assert_array_equal(layer.W, record.W_new)
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "playground-xor-step.png"), full_page=True)
    assert errors == []
    page.close()


def test_moons_boundary_hover_and_two_tabs_are_independent(server, browser):
    url, app = server
    first, errors = _open(browser, url)
    second, _ = _open(browser, url)
    a = _new_network(first, dataset="moons", hidden="8,8", activation="tanh", lr="0.3", batch="16")
    b = first.evaluate("document.body.dataset.session")
    assert a == b and second.evaluate("document.body.dataset.session") != a
    other = app.state.store.get(second.evaluate("document.body.dataset.session"))
    untouched = other.network.get_weights()
    first.click("#start")
    first.wait_for_function("Number(document.getElementById('accuracy').dataset.value) >= 0.95", timeout=60_000)
    first.click("#start")  # pause
    first.wait_for_function("document.getElementById('start').textContent === 'start'")
    trained = app.state.store.get(a)
    first.wait_for_function(f"document.getElementById('epoch').textContent === '{trained.trainer.epoch}'")
    assert all(np.array_equal(p, q) for p, q in zip(untouched, other.network.get_weights()))
    shown_bias = float(first.text_content("#network text.bias[data-layer='1'][data-unit='1']").removeprefix("b="))
    assert shown_bias == pytest.approx(trained.network.layers[0].b[0], rel=1e-3, abs=1e-4)
    first.dispatch_event("#network line[data-layer='1'][data-from='1'][data-to='1']", "mouseenter")
    assert first.text_content("#hover").startswith("w(x1→z1_1) = ") and "∂C/∂w" in first.text_content("#hover")
    pixels = first.evaluate("""() => { const c = document.getElementById('boundary');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let s = new Set();
        for (let i = 0; i < d.length; i += 4) s.add(d[i] + ',' + d[i + 1] + ',' + d[i + 2]); return s.size; }""")
    assert pixels > 20  # a real heat map, not a blank canvas
    assert first.locator("#units canvas").count() == 8 and first.locator("#dials li").count() > 0
    first.screenshot(path=os.path.join(ARTIFACTS, "playground-moons.png"), full_page=True)
    second.close()
    first.close()
    assert errors == []


def test_bad_settings_show_the_servers_message(server, browser):
    url, _ = server
    page, _ = _open(browser, url)
    page.fill("#lr", "-1")
    page.click("#apply")
    page.wait_for_function("document.getElementById('error').textContent.length > 0")
    assert "learning_rate must be a number in (0, 10.0]" in page.text_content("#error")
    page.close()


def test_download_and_load_model(server, browser, tmp_path):
    url, _ = server
    page, _ = _open(browser, url)
    _new_network(page, dataset="xor", hidden="3", activation="sigmoid")
    with page.expect_download() as download:
        page.click("#download")
    path = tmp_path / "model.npz"
    download.value.save_as(path)
    from glassnet.modelfile import load_model

    model = load_model(str(path))
    assert model.network.sizes == [2, 3, 2]
    _new_network(page, dataset="xor", hidden="5", activation="tanh")
    page.set_input_files("#upload", str(path))
    page.wait_for_function("document.getElementById('network-name').textContent.includes('2 -> 3 sigmoid')")
    page.close()
