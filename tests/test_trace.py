import math

import numpy as np
import pytest

import glassnet as gn
from glassnet.examples import explain, xor_article_network


def test_xor_article_trace_numbers_computed_independently():
    t = xor_article_network().trace([[0.0, 0.0]], [0.0], learning_rate=0.1)
    # by hand: hidden a = 1·1 + 1·0 + 1·0 = 1; output a = 1 + 1 + 1 + 1 = 4; C = ½·4² = 8
    hidden, output = t.layers
    assert hidden.a.tolist() == [[1.0, 1.0, 1.0]] and hidden.z.tolist() == [[1.0, 1.0, 1.0]]
    assert output.a.tolist() == [[4.0]] and t.cost_before == 8.0
    # δ_out = ŷ − y = 4; δ_hidden = f'(a)·w·δ_out = 1·1·4 = 4
    assert output.delta.tolist() == [[4.0]] and hidden.delta.tolist() == [[4.0, 4.0, 4.0]]
    assert hidden.W_new.tolist() == [[1.0] * 3] * 2 and hidden.b_new == pytest.approx([0.6] * 3, abs=1e-15)
    assert output.W_new.ravel() == pytest.approx([0.6] * 3, abs=1e-15) and output.b_new[0] == pytest.approx(0.6)
    assert t.cost_after == pytest.approx(0.5 * (0.6 + 3 * 0.6 * 0.6) ** 2, rel=1e-14)  # 1.4112
    text = t.to_text()
    for line in ["= 1·1 + 1·0 + 1·0 = 1", "= 1·1 + 1·1 + 1·1 + 1·1 = 4", "δ(ŷ) = (ŷ − y)/n = (4 − 0)/1 = 4",
                 "δ(z1) = f'(a) · Σ w·δ_next = f'(1) · (1·4) = 1 · 4 = 4", "∂C/∂w(x0→z1) = 1·4 = 4;  1 − 0.1·4 = 0.6",
                 "∂C/∂w(x1→z1) = 0·4 = 0;  1 − 0.1·0 = 1", "8 → 1.4112 (went down)"]:
        assert line in text, line


def test_trace_does_not_change_the_network_unless_asked():
    net = xor_article_network()
    before = net.get_weights()
    net.trace([[0.0, 0.0]], [0.0])
    assert all(np.array_equal(a, b) for a, b in zip(before, net.get_weights()))
    t = net.trace([[0.0, 0.0]], [0.0], apply=True)
    assert net.get_weights()[1] == pytest.approx([0.6] * 3) and t.cost_after == pytest.approx(1.4112)


def _sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v))


def test_classic_2_2_2_sigmoid_example_to_9_significant_digits():
    """Mazur's widely reproduced worked example: i = (0.05, 0.10), targets (0.01, 0.99), w1..w8 =
    .15 .20 .25 .30 .40 .45 .50 .55, b1 = .35, b2 = .60, α = 0.5, E = Σ ½(t − o)²."""
    w = [None, .15, .20, .25, .30, .40, .45, .50, .55]
    net = gn.Network([2, 2, 2], activation="sigmoid", cost="quadratic", seed=0)
    net.set_weights([np.array([[w[1], w[3]], [w[2], w[4]]]), np.array([.35, .35]),
                     np.array([[w[5], w[7]], [w[6], w[8]]]), np.array([.60, .60])])
    t = net.trace([[0.05, 0.10]], [[0.01, 0.99]], learning_rate=0.5)
    # by hand, in plain Python
    i1, i2, t1, t2 = 0.05, 0.10, 0.01, 0.99
    h1, h2 = _sigmoid(w[1] * i1 + w[2] * i2 + .35), _sigmoid(w[3] * i1 + w[4] * i2 + .35)
    o1, o2 = _sigmoid(w[5] * h1 + w[6] * h2 + .60), _sigmoid(w[7] * h1 + w[8] * h2 + .60)
    error = 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2
    d_o1, d_o2 = (o1 - t1) * o1 * (1 - o1), (o2 - t2) * o2 * (1 - o2)
    d_h1 = (w[5] * d_o1 + w[7] * d_o2) * h1 * (1 - h1)
    d_h2 = (w[6] * d_o1 + w[8] * d_o2) * h2 * (1 - h2)
    new = {5: w[5] - .5 * d_o1 * h1, 6: w[6] - .5 * d_o1 * h2, 7: w[7] - .5 * d_o2 * h1, 8: w[8] - .5 * d_o2 * h2,
           1: w[1] - .5 * d_h1 * i1, 2: w[2] - .5 * d_h1 * i2, 3: w[3] - .5 * d_h2 * i1, 4: w[4] - .5 * d_h2 * i2}
    hidden, output = t.layers
    rel = 1e-9
    assert hidden.z[0] == pytest.approx([h1, h2], rel=rel) and output.z[0] == pytest.approx([o1, o2], rel=rel)
    assert t.cost_before == pytest.approx(error, rel=rel)
    assert output.delta[0] == pytest.approx([d_o1, d_o2], rel=rel)
    assert hidden.delta[0] == pytest.approx([d_h1, d_h2], rel=rel)
    mine = {1: hidden.W_new[0, 0], 2: hidden.W_new[1, 0], 3: hidden.W_new[0, 1], 4: hidden.W_new[1, 1],
            5: output.W_new[0, 0], 6: output.W_new[1, 0], 7: output.W_new[0, 1], 8: output.W_new[1, 1]}
    for k in new:
        assert mine[k] == pytest.approx(new[k], rel=rel), k
    # and the numbers as published (8–9 significant digits)
    published = {"out_h1": 0.593269992, "out_o1": 0.75136507, "out_o2": 0.772928465, "E": 0.298371109,
                 5: 0.35891648, 6: 0.408666186, 7: 0.511301270, 8: 0.561370121,
                 1: 0.149780716, 2: 0.19956143, 3: 0.24975114, 4: 0.29950229}
    assert hidden.z[0, 0] == pytest.approx(published["out_h1"], abs=5e-10)
    assert output.z[0] == pytest.approx([published["out_o1"], published["out_o2"]], abs=5e-9)
    assert t.cost_before == pytest.approx(published["E"], abs=5e-10)
    for k in range(1, 9):
        assert mine[k] == pytest.approx(published[k], abs=5e-9), k


def test_dials_ranking_agrees_with_finite_difference_perturbation():
    rng = np.random.default_rng(5)
    net = gn.Network([3, 4, 3, 2], activation="tanh", output="softmax", seed=5)
    x, y = rng.normal(size=(6, 3)), rng.integers(0, 2, 6)
    t = net.trace(x, y, learning_rate=0.1)
    dials = t.dials(top=None)
    assert len(dials) == net.n_parameters
    for top in (1, 5, 12):  # the per-layer shortlist gives exactly the head of the full ranking
        assert [(d.name, d.gradient) for d in t.dials(top)] == [(d.name, d.gradient) for d in dials[:top]]
    measured = []
    base = net.copy()
    for d in dials:
        target = base.layers[d.layer - 1].W if d.kind == "W" else base.layers[d.layer - 1].b
        original = target[d.index]
        target[d.index] = original + 1e-6
        plus = base.loss(x, y)
        target[d.index] = original - 1e-6
        minus = base.loss(x, y)
        target[d.index] = original
        measured.append((plus - minus) / 2e-6)
    measured = np.array(measured)
    np.testing.assert_allclose([d.gradient for d in dials], measured, rtol=1e-6, atol=1e-9)
    # the ranking by |∂C/∂w| is the ranking by the measured sensitivity
    order = np.argsort(-np.abs(measured), kind="stable")
    assert np.all(np.diff(np.abs(measured)[order]) <= 1e-9)
    assert [abs(d.gradient) for d in dials] == sorted((abs(d.gradient) for d in dials), reverse=True)
    top = dials[0]
    assert top.direction == ("turn up" if top.gradient < 0 else "turn down")
    experiment = t.turn_dial(top, 1e-6)
    assert experiment["central_slope"] == pytest.approx(top.gradient, rel=1e-6)
    assert experiment["observed_slope"] == pytest.approx(top.gradient, rel=1e-3)


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("form", ["text", "markdown", "html"])
def test_renderers_for_small_networks(depth, form):
    sizes = [2] + [3] * (depth - 1) + [2]
    net = gn.Network(sizes, activation="sigmoid", output="softmax", seed=depth)
    t = net.trace([[0.5, -1.0], [1.0, 2.0]], [0, 1], learning_rate=0.2)
    out = t.document().render(form)
    assert "Forward pass" in out and "Backward pass" in out and "Dials" in out
    assert f"{depth * 0 + len(net.layers)}" in out
    if form == "html":
        assert out.startswith('<div class="glassnet-doc">') and "<table>" in out and t._repr_html_() == out
    if form == "markdown":
        assert "## " in out and "```" in out and "|---|" in out
    assert len(out) < 60_000


@pytest.mark.parametrize("form", ["text", "markdown", "html"])
def test_dog_breed_network_trace_is_summarised_within_bounds(form):
    net = gn.Network([625, 20, 20, 10], activation="sigmoid", output="softmax", seed=0)
    x = np.random.default_rng(0).uniform(0, 1, (2, 625))
    out = net.trace(x, [3, 7], learning_rate=0.5).document().render(form)
    assert "too large to write out" in out and ("625 -> 20" in out or "625 -&gt; 20" in out)
    assert len(out) < 8_000  # 13,150 parameters summarised in under 8 kB
    assert len(out.splitlines()) < 80


def test_bias_shown_as_unit_and_as_vector_and_repr_html():
    net = xor_article_network()
    text = net.trace([[0.0, 0.0]], [0.0]).to_text()
    assert "w(x0→z1)·x0" in text and "w(z0→ŷ)·z0" in text
    assert "as a vector: b1 = [1, 1, 1] − 0.1·[4, 4, 4] = [0.6, 0.6, 0.6]" in text
    assert "as a vector: b2 = [1] − 0.1·[4] = [0.6]" in text
    assert "<table>" in net._repr_html_() and "9 weights, 4 biases" in net._repr_html_()


def test_explain_xor_article_figures():
    text = explain("xor-article").to_text()
    for needle in ["C = ½·7.28² = 26.4992   (up from 8)", "C = ½·1.68² = 1.4112   (down from 8)",
                   "gradient 0 and must stay exactly 1", "The cost settles at 0.125", "100 % accuracy"]:
        assert needle in text, needle
    rows = [line.split() for line in text.splitlines() if line.strip().startswith(("0    ", "1    "))]
    settled = [float(r[3]) for r in rows if len(r) == 4]
    assert len(settled) == 4 and all(abs(v - 0.5) < 1e-5 for v in settled)


def test_explain_dog_breeds_and_unknown_example():
    text = explain("dog-breeds").to_text()
    assert "12,500 + 400 + 200 = 13,100" in text and "20 + 20 + 10 = 50" in text
    with pytest.raises(gn.UnknownNameError, match="xor-article"):
        explain("cats")
