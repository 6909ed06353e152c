"""The playground in a real headless Chromium, driven as a learner and a teacher would: every number the page shows
is compared with the engine's own computation of the same state, made here in Python."""
import os
from urllib.parse import parse_qs

import numpy as np
import pytest

ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "..", "artifacts")
# Okabe & Ito's colour-blind-safe palette (the first three: blue, orange, bluish green)
OKABE_ITO = [(0x00, 0x72, 0xB2), (0xE6, 0x9F, 0x00), (0x00, 0x9E, 0x73)]


def _open(browser, url, width=1400, height=900, fragment="", touch=False):
    page = browser.new_page(viewport={"width": width, "height": height}, has_touch=touch, is_mobile=touch)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
            if response.status == 404 else None)  # the favicon included
    page.goto(url + "/" + fragment)
    page.wait_for_function("document.body.dataset.session !== undefined")
    return page, errors


def _wait_new_session(page, before):
    page.wait_for_function(f"document.body.dataset.session !== '{before}'")
    return page.evaluate("document.body.dataset.session")


def _shot(page, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, name), full_page=True)


def _cells(page, kind):
    return page.eval_on_selector_all(f"#trace-table td[data-kind='{kind}']",
                                     "cells => cells.map(c => ({...c.dataset, text: c.textContent}))")


def _all_rows(page, kind):
    """Every row of a paged table: page through it."""
    found = []
    page.evaluate("() => { while (!document.getElementById('page-prev').closest('[hidden]') &&"
                  " document.getElementById('page-label').textContent.indexOf('rows 1–') !== 0)"
                  " document.getElementById('page-prev').click(); }")
    while True:
        found += _cells(page, kind)
        label = page.text_content("#page-label")
        if page.is_hidden("#pager") or label.split("–")[1].split(" ")[0] == label.split("of ")[1].split(" ")[0]:
            return found
        page.click("#page-next")


def _set(page, selector, value):
    """Set a field as a user would, ending in exactly one change event."""
    page.eval_on_selector(selector, "(field, value) => { field.value = value; "
                                    "field.dispatchEvent(new Event('change')); }", str(value))


def _step_through(page):
    page.click("#step")
    page.wait_for_selector("#trace-table td")


def _pause(page):
    page.click("#start")
    page.wait_for_function("document.getElementById('start').textContent === 'start'")


def test_step_through_is_a_worked_example_equal_to_the_engines_trace(server, browser):
    url, app = server
    page, errors = _open(browser, url, fragment="#dataset=xor&hidden=4&activation=tanh&lr=0.5&batch=4&seed=1")
    session = app.state.store.get(page.evaluate("document.body.dataset.session"))
    assert session.config["learning_rate"] == 0.5 and session.config["batch_size"] == 4
    page.click("#start")
    page.wait_for_function("document.getElementById('accuracy').textContent === '100.0%'", timeout=60_000)
    _pause(page)
    np.testing.assert_array_equal(session.network.predict(session.X), session.y)

    before = session.network.copy()
    x, y = session.step_rows()
    expected = before.trace(x, y, 0.5)  # the engine's trace of the same weights, computed here
    page.click("#step")
    page.wait_for_selector("#trace-table td[data-kind='x']")
    assert page.text_content("#batch-size") == "4"
    # stage 1 lists the inputs and the targets
    for cell in _cells(page, "x") + _cells(page, "y"):
        array = expected.x if cell["kind"] == "x" else expected.y
        assert float(cell["value"]) == array[int(cell["sample"]) - 1, int(cell["unit"]) - 1]
    assert len(_cells(page, "x")) == 8 and len(_cells(page, "y")) == 8
    n_layers = len(expected.layers)
    for layer in range(1, n_layers + 1):  # forward, the whole batch
        page.click("#next-stage")
        page.wait_for_selector(f"#trace-table td[data-kind='z'][data-layer='{layer}']")
        cells = _cells(page, "a") + _cells(page, "z")
        assert len(cells) == 2 * 4 * expected.layers[layer - 1].z.shape[1]
        for cell in cells:
            record = expected.layers[layer - 1]
            value = (record.a if cell["kind"] == "a" else record.z)[int(cell["sample"]) - 1, int(cell["unit"]) - 1]
            assert float(cell["value"]) == value
    assert "a(ŷ1) = " in page.text_content("#formulas")
    page.click("#next-stage")  # the cost, with its formula and numbers
    assert "C = −(1/4)·[" in page.text_content("#formulas") and "log" in page.text_content("#formulas")
    assert float(page.get_attribute("#cost-before", "data-value")) == expected.cost_before
    for stage in range(n_layers):
        page.click("#next-stage")
        layer = n_layers - stage
        page.wait_for_selector(f"#trace-table td[data-kind='delta'][data-layer='{layer}']")
        for cell in _cells(page, "delta"):
            row, unit = int(cell["sample"]) - 1, int(cell["unit"]) - 1
            assert float(cell["value"]) == expected.layers[layer - 1].delta[row, unit]
        if layer == n_layers:
            assert "(ŷ − y)/n" in page.text_content("#formulas") and "/4 = " in page.text_content("#formulas")
        else:
            assert "f'(a)·Σ w·δ_above = tanh'(" in page.text_content("#formulas")
    # one sample only: the table narrows to it and the formulas name it
    page.select_option("#sample", "1")
    page.wait_for_function("document.querySelectorAll(\"#trace-table td[data-kind='delta']\").length === 4")
    assert {cell["sample"] for cell in _cells(page, "delta")} == {"2"}
    page.select_option("#sample", "all")
    page.click("#next-stage")
    page.wait_for_selector("#trace-table td[data-kind='W_new']")
    assert "Σ over the batch of input·δ" in page.text_content("#formulas")
    cells = _all_rows(page, "W") + _all_rows(page, "grad_W") + _all_rows(page, "W_new") + _all_rows(page, "b_new")
    assert len([c for c in cells if c["kind"] == "W_new"]) == sum(r.W.size for r in expected.layers)
    for cell in cells:
        record = expected.layers[int(cell["layer"]) - 1]
        array = {"W": record.W, "grad_W": record.grad_W, "W_new": record.W_new, "b_new": record.b_new}[cell["kind"]]
        index = (int(cell["to"]) - 1,) if cell["kind"] == "b_new" else (int(cell["from"]) - 1, int(cell["to"]) - 1)
        assert float(cell["value"]) == array[index]
    assert float(page.get_attribute("#cost-after", "data-value")) == expected.cost_after
    # enough digits that every change shows: old and new differ in the text wherever they differ in value
    olds = {(c["layer"], c["from"], c["to"]): c["text"] for c in cells if c["kind"] == "W"}
    for cell in (c for c in cells if c["kind"] == "W_new"):
        record = expected.layers[int(cell["layer"]) - 1]
        index = (int(cell["from"]) - 1, int(cell["to"]) - 1)
        changed = record.W_new[index] != record.W[index]
        assert (cell["text"] != olds[(cell["layer"], cell["from"], cell["to"])]) == changed
    # the step was real: the server's network holds exactly the traced update, made by the trainer's optimizer
    for record, layer in zip(expected.layers, session.network.layers):
        np.testing.assert_array_equal(layer.W, record.W_new)
    # the diagram shows the old weights until the update stage: go back one stage and read a weight
    page.click("#prev-stage")
    page.dispatch_event("#network line.hit[data-layer='1'][data-from='1'][data-to='1']", "mouseenter")
    shown = page.text_content("#hover")
    assert shown.startswith("w(x1→z1) = ") and float(shown.split(" = ")[1].split()[0]) == pytest.approx(
        expected.layers[0].W[0, 0], rel=1e-5)
    # and at the update stage it shows the new weights with their change
    page.click("#next-stage")
    page.dispatch_event("#network line.hit[data-layer='1'][data-from='1'][data-to='1']", "mouseenter")
    shown = page.text_content("#hover")
    assert float(shown.split(" = ")[1].split()[0]) == pytest.approx(expected.layers[0].W_new[0, 0], rel=1e-8)
    was = f"(was {expected.layers[0].W[0, 0]:.9g}"
    assert was.replace("-", "−") in shown.replace("-", "−") and "Δw = " in shown
    _shot(page, "playground-xor-step-1400.png")
    assert errors == []
    page.close()


def test_turning_a_dial_changes_the_shown_cost_by_the_engines_amount(server, browser):
    url, app = server
    page, errors = _open(browser, url, fragment="#dataset=moons&hidden=3&lr=0.3&seed=2")
    session = app.state.store.get(page.evaluate("document.body.dataset.session"))
    original = session.network.copy()
    page.click("#network line.hit[data-layer='1'][data-from='2'][data-to='3']")  # tap a weight: it goes on the dial
    page.wait_for_function("document.getElementById('dial-name').textContent === 'w(x2→z3)'")
    _set(page, "#dial-delta", 0.25)
    page.wait_for_function("document.getElementById('dial-box').dataset.delta === '0.25'")
    # the engine, independently of the page: the same cost with the weight turned and not
    turned = original.copy()
    turned.layers[0].W[1, 2] += 0.25
    real = turned.loss(session.X, session.y) - original.loss(session.X, session.y)
    gradient = original.gradients(session.X, session.y)[0][0][1, 2]
    assert float(page.get_attribute("#dial-real", "data-value")) == pytest.approx(real, rel=1e-12, abs=1e-15)
    assert float(page.get_attribute("#dial-predicted", "data-value")) == pytest.approx(gradient * 0.25, rel=1e-12)
    assert float(page.get_attribute("#dial-cost", "data-value")) == pytest.approx(turned.loss(session.X, session.y),
                                                                                   rel=1e-12)
    assert session.network.layers[0].W[1, 2] == original.layers[0].W[1, 2] + 0.25  # the network really moved
    # a dial from the list of largest gradients goes on the dial box too
    _step_through(page)
    page.click("#dials li >> nth=0")
    page.wait_for_function("document.getElementById('dial-box').dataset.delta === '0'")
    assert page.get_attribute("#dial-real", "data-value") == "0"
    _shot(page, "playground-dial-1400.png")
    assert errors == []
    page.close()


def test_dataset_switch_clears_the_old_boundary_and_blobs_use_three_colours(server, browser):
    url, app = server
    page, errors = _open(browser, url, fragment="#dataset=spirals&hidden=8")
    assert page.is_visible("#boundary") and page.locator("#units canvas").count() == 8
    page.dispatch_event("#network .node[data-layer='1'][data-unit='1']", "mouseenter")
    assert page.text_content("#hover").startswith("z1: bias")
    before = page.evaluate("document.body.dataset.session")
    page.select_option("#dataset", "digits")
    _wait_new_session(page, before)
    page.wait_for_function("document.getElementById('boundary').hidden")
    assert page.locator("#units canvas").count() == 0 and "no plane to draw" in page.text_content("#boundary-note")
    session = app.state.store.get(page.evaluate("document.body.dataset.session"))
    answers = session.network.predict(session.test[0][:12]).tolist()
    captions = page.eval_on_selector_all("#digits figcaption", "f => f.map(x => x.textContent)")
    assert [int(c.split(" → ")[1].split()[0]) for c in captions] == answers  # the network's own answers
    assert page.text_content("#hover").startswith("hover or tap")  # nothing read from the old network stays
    page.wait_for_function("document.getElementById('notice').textContent.includes('new network (dataset: digits)')")
    assert page.locator("#features input").count() == 0
    before = page.evaluate("document.body.dataset.session")
    page.select_option("#dataset", "blobs")
    session = app.state.store.get(_wait_new_session(page, before))
    page.wait_for_function("!document.getElementById('boundary').hidden")
    assert page.locator("#legend span").count() == 3
    # the centre pixel of an isolated training dot of each class has that class's colour
    extent, size = session.snapshot()["map"]["extent"], 300
    raw = session.data.raw_train
    px = np.c_[(raw[:, 0] - extent[0]) / (extent[1] - extent[0]) * size,
               (1 - (raw[:, 1] - extent[2]) / (extent[3] - extent[2])) * size]
    for label, colour in enumerate(OKABE_ITO):
        distances = np.linalg.norm(px[:, None] - px[None], axis=2) + np.eye(len(px)) * 1e9
        alone = np.flatnonzero((session.y == label) & (distances.min(axis=1) > 12))
        assert alone.size, f"no isolated dot of class {label}"
        x, y = px[alone[0]]
        pixel = page.evaluate(f"Array.from(document.getElementById('boundary').getContext('2d')"
                              f".getImageData({int(x)}, {int(y)}, 1, 1).data)")
        assert tuple(pixel[:3]) == colour
    _shot(page, "playground-blobs-1400.png")
    assert errors == []
    page.close()


def test_live_settings_keep_the_network_and_reset_uses_what_is_shown(server, browser):
    url, app = server
    page, errors = _open(browser, url, fragment="#dataset=circles&hidden=4&lr=0.3")
    session_id = page.evaluate("document.body.dataset.session")
    session = app.state.store.get(session_id)
    _step_through(page)
    weights = session.network.get_weights()
    version = int(page.evaluate("document.body.dataset.version"))
    page.select_option("#lr", "0.03")
    page.select_option("#optimizer", "adam")
    _set(page, "#batch", 8)
    page.select_option("#l2", "0.001")
    page.select_option("#l1", "0.0001")
    page.select_option("#speed", "5")
    page.wait_for_function(f"Number(document.body.dataset.version) >= {version + 6}")
    assert page.evaluate("document.body.dataset.session") == session_id
    assert all(np.array_equal(p, q) for p, q in zip(weights, session.network.get_weights()))
    assert (session.trainer.learning_rate, session.trainer.optimizer.name, session.trainer.batch_size,
            session.network.l2, session.network.l1, session.config["speed"]) == (0.03, "adam", 8, 0.001, 0.0001, 5)
    page.wait_for_function("document.getElementById('notice').textContent.includes('the network keeps its weights')")
    page.click("#reset")
    new = app.state.store.get(_wait_new_session(page, session_id))
    assert (new.config["learning_rate"], new.config["optimizer"], new.network.l2, new.network.l1) == \
        (0.03, "adam", 0.001, 0.0001)
    page.wait_for_function("document.getElementById('notice').textContent.startsWith('new network (reset')")
    assert errors == []
    page.close()


def test_teacher_controls_and_the_whole_state_in_the_url(server, browser):
    url, app = server
    page, errors = _open(browser, url, fragment="#dataset=circles&hidden=3,2&features=x1sq,x2sq&lr=0.03&noise=0.2")
    session = app.state.store.get(page.evaluate("document.body.dataset.session"))
    assert (session.config["hidden"], session.config["features"], session.config["learning_rate"],
            session.config["noise"]) == ([3, 2], ["x1sq", "x2sq"], 0.03, 0.2)
    assert page.text_content("#network text >> nth=0") == "x1²"
    page.dispatch_event("#network line.hit[data-layer='1'][data-from='2'][data-to='1']", "click")
    page.wait_for_function("document.getElementById('dial-name').textContent === 'w(x2²→z1_1)'")
    # +/- for layers and units; each change is a new network and lands in the URL
    before = page.evaluate("document.body.dataset.session")
    page.click("#layer-plus")
    before = _wait_new_session(page, before)
    page.click("#layer-units button[aria-label='more units in hidden layer 1']")
    session = app.state.store.get(_wait_new_session(page, before))
    assert session.config["hidden"] == [4, 2, 2]
    state = parse_qs(page.evaluate("location.hash.slice(1)"))
    assert state["hidden"] == ["4,2,2"] and state["features"] == ["x1sq,x2sq"] and state["lr"] == ["0.03"]
    # every hidden unit of every layer has its heat map, in the diagram and in the map panel
    assert page.locator("#network image").count() == 8 and page.locator("#units canvas").count() == 8
    # test data and discretised output change the picture
    plain = page.evaluate("document.getElementById('boundary').toDataURL()")
    page.check("#discretize")
    assert page.evaluate("document.getElementById('boundary').toDataURL()") != plain
    page.check("#show-test")
    assert "test samples (black ring)" in page.text_content("#boundary-note")
    # noise, the test share and regenerate are new data
    before = page.evaluate("document.body.dataset.session")
    _set(page, "#test", 50)
    session = app.state.store.get(_wait_new_session(page, before))
    assert session.config["test_fraction"] == 0.5 and len(session.data.raw_test) == 200
    before = page.evaluate("document.body.dataset.session")
    page.click("#regenerate")
    session = app.state.store.get(_wait_new_session(page, before))
    assert session.config["data_seed"] == 1
    state = parse_qs(page.evaluate("location.hash.slice(1)"))
    assert state["data_seed"] == ["1"] and state["test"] == ["50"] and state["discretize"] == ["1"]
    # the link restores all of it in a new tab
    link = page.evaluate("location.hash")
    copy, _ = _open(browser, url, fragment=link)
    restored = app.state.store.get(copy.evaluate("document.body.dataset.session"))
    assert {k: restored.config[k] for k in ("hidden", "features", "data_seed", "test_fraction", "noise")} == \
        {k: session.config[k] for k in ("hidden", "features", "data_seed", "test_fraction", "noise")}
    assert copy.is_checked("#discretize") and copy.is_checked("#show-test")
    copy.close()
    # a regression set: a curve, no accuracy
    before = page.evaluate("document.body.dataset.session")
    page.select_option("#dataset", "regression")
    _wait_new_session(page, before)
    page.wait_for_function("document.getElementById('map-title').textContent === '(regression)'")
    assert page.text_content("#accuracy") == "–" and page.locator("#features input").count() == 3
    assert errors == []
    page.close()


def test_speed_control_goes_down_to_single_steps(server, browser):
    url, app = server
    page, errors = _open(browser, url, fragment="#dataset=moons&hidden=4&speed=1")
    session = app.state.store.get(page.evaluate("document.body.dataset.session"))
    assert session.config["speed"] == 1
    page.click("#start")
    # at 1 step per second every step is published on its own: the page shows the first one alone
    page.wait_for_function("document.getElementById('speed-note').textContent === '1 step at 1 per second'")
    page.click("#start")
    page.wait_for_function("document.getElementById('start').textContent === 'start'")
    assert errors == []
    page.close()


def test_whole_history_with_axes_and_scores_on_every_split(server, browser):
    url, app = server
    page, errors = _open(browser, url, fragment="#dataset=moons&hidden=6&lr=0.3&batch=256")
    page.click("#start")
    page.wait_for_function("Number(document.getElementById('epoch').textContent) > 450", timeout=60_000)
    _pause(page)
    session = app.state.store.get(page.evaluate("document.body.dataset.session"))
    page.wait_for_function(f"document.getElementById('epoch').textContent === '{session.trainer.epoch}'")
    history = session.snapshot()["history"]
    assert len(history["epochs"]) <= 400 and history["epochs"][0] == 1
    assert history["epochs"][-1] == session.trainer.epoch  # the whole run, first to last
    labels = page.eval_on_selector_all("#curves text", "t => t.map(x => x.textContent)")
    assert "epoch" in labels and "cost" in labels and "100%" in labels
    page.check("#log-scale")
    assert "cost (log)" in page.eval_on_selector_all("#curves text", "t => t.map(x => x.textContent)")
    scores = session.snapshot()["scores"]
    for split in ("train", "validation", "test"):
        assert float(page.get_attribute(f"#loss-{split}", "data-value")) == scores[split]["loss"]
    assert float(page.get_attribute("#accuracy-test", "data-value")) == scores["test"]["accuracy"]
    assert errors == []
    page.close()


def test_large_network_step_through_is_summarised_and_paged(server, browser):
    url, app = server
    page, errors = _open(browser, url, fragment="#dataset=digits&hidden=32,16&batch=16")
    _step_through(page)
    page.click("#stage-list li >> nth=-1")
    page.wait_for_selector("#trace-table td[data-kind='W_new']")
    assert page.locator("#trace-table tbody tr").count() == 20
    assert page.text_content("#page-label") == f"rows 1–20 of {64 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10} " \
                                               "(largest |∂C/∂w| first)"
    gradients = page.eval_on_selector_all("#trace-table td[data-kind^='grad_']",
                                          "cells => cells.map(c => Math.abs(Number(c.dataset.value)))")
    assert gradients == sorted(gradients, reverse=True)
    assert page.locator("#network text.more").count() == 2  # "16 of 64" inputs, "16 of 32" units
    assert errors == []
    page.close()


def test_text_is_at_least_11_pixels_at_1400(server, browser):
    url, _ = server
    page, errors = _open(browser, url, fragment="#dataset=moons&hidden=8,8")
    _step_through(page)
    small = page.evaluate("""() => {
        const bad = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
            const node = walker.currentNode, parent = node.parentElement;
            if (!node.textContent.trim() || !parent || parent.closest('[hidden], title, script')) continue;
            const style = getComputedStyle(parent);
            if (style.display === 'none' || style.visibility === 'hidden') continue;
            let size = parseFloat(style.fontSize);
            if (parent instanceof SVGElement) size *= parent.getScreenCTM().a;  // the drawing's own scale
            if (size < 11) bad.push(`${node.textContent.slice(0, 20)}: ${size}`);
        }
        return bad; }""")
    assert small == []
    _shot(page, "playground-moons-step-1400.png")
    assert errors == []
    page.close()


def test_phone_layout_has_no_horizontal_scroll_and_a_tap_reads_a_weight(server, browser):
    url, _ = server
    page, errors = _open(browser, url, width=390, height=844, fragment="#dataset=moons&hidden=8,8", touch=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.tap("#network .node[data-layer='2'][data-unit='3']")  # a tap shows what a hover shows
    assert page.text_content("#hover").startswith("z2_3: bias w(z1_0→z2_3) = b = ")
    page.wait_for_function("document.getElementById('dial-name').textContent === 'w(z1_0→z2_3)'")
    _step_through(page)
    page.click("#stage-list li >> nth=2")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    width = page.evaluate("document.getElementById('network').getBoundingClientRect().width")
    assert width >= 300  # the diagram uses the phone's width
    _shot(page, "playground-phone-390.png")
    page.screenshot(path=os.path.join(ARTIFACTS, "playground-phone-390-top.png"))
    assert errors == []
    page.close()


def test_bad_settings_show_the_servers_message(server, browser):
    url, _ = server
    page, _ = _open(browser, url)
    _set(page, "#batch", 0)
    page.wait_for_function("document.getElementById('error').textContent.length > 0")
    assert "batch_size must be a whole number in 1..10000" in page.text_content("#error")
    page.close()


def test_download_and_load_model(server, browser, tmp_path):
    url, _ = server
    page, _ = _open(browser, url, fragment="#dataset=xor&hidden=3&activation=sigmoid")
    with page.expect_download() as download:
        page.click("#download")
    path = tmp_path / "model.npz"
    download.value.save_as(path)
    from glassnet.modelfile import load_model

    model = load_model(str(path))
    assert model.network.sizes == [2, 3, 2]
    before = page.evaluate("document.body.dataset.session")
    page.select_option("#activation", "relu")
    _wait_new_session(page, before)
    _step_through(page)  # a step-through is open when the model arrives
    page.set_input_files("#upload", str(path))
    page.wait_for_function("document.getElementById('network-name').textContent.includes('2 -> 3 sigmoid')")
    assert page.text_content("#stage") == "" and page.locator("#trace-table td").count() == 0
    assert page.locator("#network .node").count() == 2 + 3 + 2  # the diagram is the loaded network's
    assert page.input_value("#hidden") == "3"
    page.close()
