"""Backpropagation against central differences, the independent autograd package, and PyTorch."""

import autograd
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import glassnet as gn
from glassnet.gradcheck import numerical_gradients
from reference import network_cost

HIDDEN = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus"]
PAIRS = [("quadratic", "identity"), ("quadratic", "sigmoid"), ("quadratic", "tanh"), ("quadratic", "softplus"),
         ("quadratic", "softmax"), ("binary_cross_entropy", "sigmoid"), ("binary_cross_entropy", "softmax"),
         ("cross_entropy", "softmax"), ("cross_entropy", "sigmoid")]
COMBOS = [(h, c, o, d) for d in (1, 2, 3, 4) for h in (HIDDEN if d > 1 else ["identity"]) for c, o in PAIRS]


def make_problem(hidden, cost, output, depth, seed, n_samples=5, l2=0.0):
    rng = np.random.default_rng(seed)
    sizes = [3] + [int(s) for s in rng.integers(2, 5, depth - 1)] + [3]
    net = gn.Network(sizes, activation=hidden, output=output, cost=cost, weight_init="normal", seed=seed,
                     l2=l2)
    for layer in net.layers:  # weights of order 1 so every activation works away from its flat tails
        layer.W[...] = rng.normal(0, 0.8, layer.W.shape)
        layer.b[...] = rng.normal(0, 0.3, layer.b.shape)
    x = rng.normal(0, 1, (n_samples, 3))
    _keep_away_from_kinks(net, x)
    if cost == "cross_entropy":
        y = np.eye(3)[rng.integers(0, 3, n_samples)]
    elif cost == "binary_cross_entropy":
        y = rng.integers(0, 2, (n_samples, 3)).astype(float)
    else:
        y = rng.normal(0, 1, (n_samples, 3))
    return net, x, y


def _keep_away_from_kinks(net, x, margin=0.05):
    """Shift biases until no weighted sum lies within ``margin`` of 0, where ReLU has no derivative."""
    for layer in net.layers:
        a = x @ layer.W + layer.b
        for _ in range(100):
            near = (np.abs(a) < margin).any(axis=0)
            if not near.any():
                break
            layer.b[near] += 2 * margin
            a = x @ layer.W + layer.b
        x = layer.activation.forward(a)


def max_relative_error(a, b):
    """max over entries of |a−b| / max(|a|+|b|, 1e-6): entries below 1e-6 are judged absolutely (to 1e-12)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float((np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-6)).max())


def backprop(net, x, y):
    return [np.copy(g) for pair in net.gradients(x, y) for g in pair]


@pytest.mark.parametrize("hidden,cost,output,depth", COMBOS)
def test_backprop_matches_central_differences(hidden, cost, output, depth):
    net, x, y = make_problem(hidden, cost, output, depth, seed=depth * 100 + HIDDEN.index(hidden))
    grads = backprop(net, x, y)
    numeric = numerical_gradients(net, x, y, epsilon=1e-3, order=4)
    worst = max(max_relative_error(grads[2 * i + k].reshape(-1)[per[name][0]], per[name][1])
                for i, per in enumerate(numeric) for k, name in enumerate(("W", "b")))
    assert worst <= 1e-6


@pytest.mark.parametrize("hidden,cost,output,depth", COMBOS)
def test_backprop_matches_autograd(hidden, cost, output, depth):
    net, x, y = make_problem(hidden, cost, output, depth, seed=depth * 100 + HIDDEN.index(hidden), l2=0.05)
    net.l2 = 0.05
    grads = backprop(net, x, y)
    activations = [layer.activation.name for layer in net.layers]
    reference = autograd.grad(network_cost)(net.get_weights(), x, y, activations, cost, 0.05)
    for mine, theirs in zip(grads, reference):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-14)
    assert net.loss(x, y) == pytest.approx(network_cost(net.get_weights(), x, y, activations, cost, 0.05),
                                           rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5),
    n_samples=st.integers(1, 9),
    hidden=st.sampled_from(HIDDEN),
    pair=st.sampled_from(PAIRS),
    seed=st.integers(0, 2**31 - 1),
    scale=st.floats(0.1, 2.0),
)
def test_property_random_shapes_agree_with_autograd(sizes, n_samples, hidden, pair, seed, scale):
    cost, output = pair
    if output == "softmax" and sizes[-1] == 1:
        sizes[-1] = 2
    rng = np.random.default_rng(seed)
    net = gn.Network(sizes, activation=hidden, output=output, cost=cost, seed=seed)
    for layer in net.layers:  # non-zero biases: a weighted sum of exactly 0 (ReLU's kink) has probability 0
        layer.W[...] = rng.normal(0, scale, layer.W.shape)
        layer.b[...] = rng.normal(0, 0.5, layer.b.shape)
    x = rng.normal(0, scale * 2, (n_samples, sizes[0]))
    if cost == "quadratic":
        y = rng.normal(size=(n_samples, sizes[-1]))
    else:
        y = rng.uniform(0, 1, (n_samples, sizes[-1]))
        if cost == "cross_entropy":
            y /= y.sum(axis=1, keepdims=True)
    grads = backprop(net, x, y)
    activations = [layer.activation.name for layer in net.layers]
    assert all(np.isfinite(g).all() for g in grads)  # glassnet's fused forms never saturate
    with np.errstate(all="ignore"):
        reference = autograd.grad(network_cost)(net.get_weights(), x, y, activations, cost)
    # the textbook reference loses digits in 1 − σ(a) for large |a| (and saturates to log 0 = −inf);
    # compare where it is well conditioned. test_costs checks the extreme logits against mpmath instead.
    assume(all(np.isfinite(r).all() for r in reference))
    assume(cost != "binary_cross_entropy" or np.abs(net.layers[-1].a).max() < 12)
    # and its exp(a) / Σ exp(a) overflows (its derivative silently becomes 0) for logits in the hundreds
    assume(np.abs(net.layers[-1].a).max() < 50)
    for mine, theirs in zip(grads, reference):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12)


def test_gradient_check_reports_per_layer_and_samples_large_layers():
    net, x, y = make_problem("tanh", "cross_entropy", "softmax", 3, seed=7)
    report = gn.gradient_check(net, x, y)
    assert len(report) == 3 and all(set(r) == {"W", "b"} for r in report)
    assert max(max(r.values()) for r in report) < 1e-6
    big = gn.Network([625, 20, 20, 10], activation="sigmoid", output="softmax", seed=0)
    rng = np.random.default_rng(0)
    xb, yb = rng.uniform(0, 1, (3, 625)), rng.integers(0, 10, 3)
    report = gn.gradient_check(big, xb, yb, max_checks=25)
    assert max(max(r.values()) for r in report) < 1e-6


def test_gradient_check_catches_a_wrong_derivative(monkeypatch):
    net, x, y = make_problem("tanh", "quadratic", "identity", 2, seed=3)
    # wrong: tanh' is 1 − z², not 1 − z
    monkeypatch.setattr(type(net.layers[0].activation), "backward", lambda self, g, a, z, out=None: g * (1 - z))
    report = gn.gradient_check(net, x, y)
    assert report[0]["W"] > 1e-2


def _dead_relu_problem():
    """3-4-2 ReLU/softmax network whose hidden unit 2 has bias −100: a = x·w − 100 < 0 for every sample."""
    rng = np.random.default_rng(5)
    net = gn.Network([3, 4, 2], activation="relu", output="softmax", seed=5)
    net.layers[0].b[...] = [0.3, -100.0, 0.2, 0.4]
    x = rng.normal(0, 1, (6, 3))
    y = rng.integers(0, 2, 6)
    return net, x, y


def test_a_dead_relu_unit_is_not_reported_as_a_wrong_gradient():
    net, x, y = _dead_relu_problem()
    # by hand: |x·w| ≤ Σ|x||w| is far below 100, so the unit's output and all its gradients are exactly 0
    assert (np.abs(x) @ np.abs(net.layers[0].W[:, 1])).max() < 100
    grads = net.gradients(x, y)
    assert not grads[0][0][:, 1].any() and grads[0][1][1] == 0 and not grads[1][0][1].any()
    report = gn.gradient_check(net, x, y)
    assert max(max(r.values()) for r in report) < 1e-8  # before: 0.28 (rounding over a 1e-12 floor)


def test_sigmoid_cross_entropy_with_a_zero_target_is_not_reported_as_wrong():
    # 2-2 sigmoid + categorical cross-entropy, target [1, 0]: C = −log σ(a_1) does not involve output 2,
    # so its column of W and its bias have gradient exactly 0; output 1's are −(1 − σ(a_1))·x and −(1 − σ(a_1))
    net = gn.Network([2, 2], activation="sigmoid", cost="cross_entropy", seed=0)
    x, y = np.array([[0.5, -0.3]]), np.array([[1.0, 0.0]])
    W, b = net.layers[0].W.copy(), net.layers[0].b.copy()
    a1 = x[0] @ W[:, 0] + b[0]
    by_hand = -(1 - 1 / (1 + np.exp(-a1)))
    grad_W, grad_b = net.gradients(x, y)[0]
    np.testing.assert_allclose(grad_W[:, 0], by_hand * x[0], rtol=1e-14)
    assert grad_b[0] == pytest.approx(by_hand, rel=1e-14) and not grad_W[:, 1].any() and grad_b[1] == 0
    report = gn.gradient_check(net, x, y)
    assert max(report[0].values()) < 1e-8  # before: 0.093


@pytest.mark.parametrize("where,size", [("live", 1e-3), ("dead", 1e-4)])
def test_a_planted_wrong_gradient_is_still_caught(monkeypatch, where, size):
    net, x, y = _dead_relu_problem()
    true_gradients = net.gradients

    def wrong_gradients(xx, yy):
        grads = true_gradients(xx, yy)
        column = 0 if where == "live" else 1  # a live unit's weight is off by 0.1 %; a dead one's is not 0
        grads[0][0][0, column] = grads[0][0][0, column] * (1 + size) if where == "live" else size
        return grads

    monkeypatch.setattr(net, "gradients", wrong_gradients)
    report = gn.gradient_check(net, x, y)
    assert report[0]["W"] > 1e-5 and report[1]["W"] < 1e-8
