"""One step of each optimizer against its update rule, computed by hand here."""
import math

import numpy as np
import pytest

import glassnet as gn
from glassnet import blas


@pytest.fixture(autouse=True, params=["blas", "numpy"])
def update_path(request, monkeypatch):
    """Every rule is checked on both paths: numpy's own BLAS (axpy) and plain numpy operations."""
    if request.param == "numpy":
        monkeypatch.setattr(blas, "_KERNELS", {})
    elif not blas.available():
        pytest.skip("numpy's bundled BLAS is not found on this platform")
    else:
        monkeypatch.setattr(blas, "BLAS_FROM", 0)  # these 2 x 2 arrays would otherwise take numpy's path
    return request.param


W0 = np.array([[0.5, -1.0], [2.0, 0.25]])
G1 = np.array([[0.1, -0.2], [0.3, 0.0]])
G2 = np.array([[-0.4, 0.05], [0.2, 0.6]])
LR = 0.1


def run(optimizer, grads, mask=(True,)):
    from glassnet.params import ParameterGroup

    w = W0.copy()
    for g in grads:
        optimizer.step([ParameterGroup("w", w, g, mask[0])], LR)
    return w


def test_sgd():
    np.testing.assert_allclose(run(gn.SGD(), [G1]), W0 - LR * G1, rtol=0, atol=1e-15)


def test_momentum_two_steps():
    # v1 = −lr g1; w1 = w0 + v1; v2 = μ v1 − lr g2; w2 = w1 + v2
    mu = 0.9
    v1 = -LR * G1
    v2 = mu * v1 - LR * G2
    np.testing.assert_allclose(run(gn.Momentum(mu), [G1, G2]), W0 + v1 + v2, rtol=0, atol=1e-15)


def test_nesterov_two_steps():
    # v = μ v − lr g;  w = w + μ v − lr g
    mu = 0.8
    v1 = -LR * G1
    w1 = W0 + mu * v1 - LR * G1
    v2 = mu * v1 - LR * G2
    w2 = w1 + mu * v2 - LR * G2
    np.testing.assert_allclose(run(gn.Nesterov(mu), [G1, G2]), w2, rtol=0, atol=1e-15)
    np.testing.assert_allclose(run(gn.Momentum(mu, nesterov=True), [G1, G2]), w2, rtol=0, atol=1e-15)


def _adam_by_hand(grads, b1=0.9, b2=0.999, eps=1e-8, decay=0.0):
    w, m, v = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    for t, g in enumerate(grads, start=1):
        w = w - LR * decay * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        w = w - LR * m_hat / (np.sqrt(v_hat) + eps)
    return w


def test_adam_two_steps():
    np.testing.assert_allclose(run(gn.Adam(), [G1, G2]), _adam_by_hand([G1, G2]), rtol=1e-13, atol=1e-15)
    # first step of Adam moves each weight by lr · sign(g) (up to epsilon) wherever g != 0
    w = run(gn.Adam(), [G1])
    assert w[0, 0] == pytest.approx(0.5 - 0.1 * 0.1 / (0.1 + 1e-8), rel=1e-14)


def test_adamw_decays_weights_not_biases():
    np.testing.assert_allclose(run(gn.AdamW(weight_decay=0.05), [G1, G2]),
                               _adam_by_hand([G1, G2], decay=0.05), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(run(gn.AdamW(weight_decay=0.05), [G1, G2], mask=(False,)),
                               _adam_by_hand([G1, G2]), rtol=1e-13, atol=1e-15)


def test_l2_penalty_adds_lambda_w_to_the_gradient():
    net = gn.Network([2, 2], activation="identity", cost="quadratic", seed=0, l2=0.3)
    x, y = np.array([[1.0, 2.0]]), np.array([[0.5, -0.5]])
    W, b = net.layers[0].W.copy(), net.layers[0].b.copy()
    err = x @ W + b - y
    gW, gb = net.gradients(x, y)[0]
    np.testing.assert_allclose(gW, x.T @ err + 0.3 * W, rtol=1e-14)
    np.testing.assert_allclose(gb, err[0], rtol=1e-14)  # no penalty on biases
    assert net.loss(x, y) == pytest.approx(0.5 * (err ** 2).sum() + 0.15 * (W ** 2).sum(), rel=1e-14)


@pytest.mark.parametrize("spec,epoch,expected", [
    ("constant", 7, 0.1),
    ({"name": "step", "every": 3, "factor": 0.5}, 7, 0.1 * 0.25),
    ({"name": "exponential", "gamma": 0.9}, 4, 0.1 * 0.9 ** 4),
    ({"name": "cosine", "period": 10}, 5, 0.05),
    ({"name": "cosine", "period": 10, "min_lr": 0.01}, 10, 0.01),
    ({"name": "cosine", "period": 10}, 20, 0.0),
])
def test_schedules(spec, epoch, expected):
    assert gn.get_schedule(spec)(0.1, epoch) == pytest.approx(expected, abs=1e-15)


def test_fit_uses_the_schedule_each_epoch():
    X, y = np.array([[0.0], [1.0]]), np.array([0.0, 1.0])
    net = gn.Network([1, 1], activation="identity", seed=0)
    history = net.fit(X, y, epochs=3, schedule={"name": "step", "every": 1, "factor": 0.5}, learning_rate=0.2)
    assert history.learning_rate == [0.2, 0.1, 0.05]


@pytest.mark.parametrize("bad", [
    lambda: gn.Momentum(1.5), lambda: gn.Adam(beta_1=1.0), lambda: gn.Adam(epsilon=0),
    lambda: gn.AdamW(weight_decay=-1), lambda: gn.get_optimizer("adamax"),
    lambda: gn.get_schedule({"name": "step", "every": 0}), lambda: gn.get_optimizer({"name": "sgd", "lr": 1}),
])
def test_bad_optimizer_settings_are_refused(bad):
    with pytest.raises(gn.ConfigError):
        bad()


def test_unknown_optimizer_lists_valid_names():
    with pytest.raises(gn.UnknownNameError) as info:
        gn.get_optimizer("adamax")
    for name in ("sgd", "momentum", "nesterov", "adam", "adamw"):
        assert name in str(info.value)
    assert math.isclose(gn.get_optimizer("adam").beta_2, 0.999)
