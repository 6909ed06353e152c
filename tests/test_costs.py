import autograd
import numpy as np
import pytest

from glassnet import get_activation, get_cost
from reference import COSTS as REF


def _targets(name, rng, shape):
    if name == "cross_entropy":
        return np.eye(shape[1])[rng.integers(0, shape[1], shape[0])]
    if name == "binary_cross_entropy":
        return rng.integers(0, 2, shape).astype(float)
    return rng.normal(size=shape)


@pytest.mark.parametrize("name", ["quadratic", "binary_cross_entropy", "cross_entropy"])
def test_value_and_gradient_match_reference(name, rng):
    cost = get_cost(name)
    p = rng.uniform(0.05, 0.95, (6, 3))
    if name == "cross_entropy":
        p /= p.sum(axis=1, keepdims=True)
    y = _targets(name, rng, p.shape)
    assert cost.value(p, y) == pytest.approx(REF[name](p, y), rel=1e-13)
    np.testing.assert_allclose(cost.gradient(p, y), autograd.grad(REF[name])(p, y), rtol=1e-12)


def test_quadratic_convention_is_half_squared_error_mean_over_samples():
    # two samples, errors (1, 2) and (3, 0): C = (½(1+4) + ½(9)) / 2 = 3.5
    y_pred = np.array([[1.0, 2.0], [3.0, 0.0]])
    assert get_cost("quadratic").value(y_pred, np.zeros((2, 2))) == 3.5


@pytest.mark.parametrize("name,output", [("binary_cross_entropy", "sigmoid"), ("cross_entropy", "softmax")])
def test_fused_value_is_exact_and_finite_for_extreme_logits(name, output):
    cost, act = get_cost(name), get_activation(output)
    a = np.array([[-1000.0, 0.0, 1000.0], [3.0, -2.0, 0.5]])
    y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    value = cost.fused_value(a, y)
    assert np.isfinite(value)
    # by hand: the wrong-class logit gap dominates
    if name == "cross_entropy":
        row2 = -np.log(np.exp(-2.0) / (np.exp(3.0) + np.exp(-2.0) + np.exp(0.5)))
        assert value == pytest.approx((2000.0 + row2) / 2, rel=1e-12)
    else:
        # −log σ(−1000) = 1000 + log1p(e^-1000); −log(1 − σ(1000)) = 1000; −log(1−σ(0)) = log 2
        # row 2, a = (3, −2, 0.5), y = (0, 1, 0): softplus(3) + softplus(2) + softplus(0.5)
        row2 = (3.0 + np.log1p(np.exp(-3.0))) + (2.0 + np.log1p(np.exp(-2.0))) + np.log1p(np.exp(0.5))
        assert value == pytest.approx((2000.0 + np.log(2.0) + row2) / 2, rel=1e-12)
    # in the moderate row, the fused value equals the plain formula
    moderate = a[1:], y[1:]
    assert cost.fused_value(*moderate) == pytest.approx(REF[name](act.forward(moderate[0]), moderate[1]), rel=1e-12)


@pytest.mark.parametrize("name,output", [("binary_cross_entropy", "sigmoid"), ("cross_entropy", "softmax"),
                                         ("quadratic", "identity")])
def test_fused_delta_equals_general_chain_rule(name, output, rng):
    cost, act = get_cost(name), get_activation(output)
    a = rng.normal(size=(5, 3))
    z = act.forward(a)
    y = _targets(name, rng, z.shape)
    general = act.backward(cost.gradient(z, y), a, z)
    np.testing.assert_allclose(cost.fused_delta(z, y), general, rtol=1e-10, atol=1e-14)


def test_cross_entropy_with_soft_labels_not_summing_to_one(rng):
    cost, act = get_cost("cross_entropy"), get_activation("softmax")
    a = rng.normal(size=(4, 3))
    y = rng.uniform(0, 1, (4, 3))  # rows do not sum to 1
    z = act.forward(a)
    np.testing.assert_allclose(cost.fused_delta(z, y), act.backward(cost.gradient(z, y), a, z), rtol=1e-10)


def test_no_log_of_zero():
    p = np.array([[0.0, 1.0]])
    y = np.array([[1.0, 0.0]])
    assert np.isfinite(get_cost("binary_cross_entropy").value(p, y))
    assert np.isfinite(get_cost("cross_entropy").value(p, y))


def test_extreme_logits_against_50_digit_arithmetic():
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 50
    a = np.array([[20.8, -35.0, 0.3]])
    y = np.array([[0.25, 1.0, 0.0]])
    for name in ("binary_cross_entropy", "cross_entropy"):
        cost = get_cost(name)
        yy = y / y.sum() if name == "cross_entropy" else y
        z = get_activation("sigmoid" if name == "binary_cross_entropy" else "softmax").forward(a)
        if name == "binary_cross_entropy":
            p = [1 / (1 + mp.exp(-mp.mpf(v))) for v in a[0]]
            exact_value = -sum(mp.mpf(t) * mp.log(q) + (1 - mp.mpf(t)) * mp.log(1 - q) for t, q in zip(yy[0], p))
        else:
            total = sum(mp.exp(mp.mpf(v)) for v in a[0])
            p = [mp.exp(mp.mpf(v)) / total for v in a[0]]
            exact_value = -sum(mp.mpf(t) * mp.log(q) for t, q in zip(yy[0], p))
        exact_delta = [float(q - mp.mpf(t)) for q, t in zip(p, yy[0])]
        assert cost.fused_value(a, yy) == pytest.approx(float(exact_value), rel=1e-14)
        np.testing.assert_allclose(cost.fused_delta(z, yy)[0], exact_delta, rtol=1e-13)


# ---- every accepted output/cost pair at saturated logits, against 910-digit arithmetic -----------------------
import mpmath  # noqa: E402
from hypothesis import assume, given, settings, strategies as st  # noqa: E402

from glassnet.errors import ConfigError  # noqa: E402


def _mp_outputs(output, a):
    """f(a) for one sample's logits (mpf), written out independently of glassnet."""
    if output == "softmax":
        total = mpmath.fsum(mpmath.exp(v) for v in a)
        return [mpmath.exp(v) / total for v in a]
    one = {"identity": lambda v: v, "sigmoid": lambda v: 1 / (1 + mpmath.exp(-v)), "tanh": mpmath.tanh,
           "relu": lambda v: max(v, 0), "leaky_relu": lambda v: v if v > 0 else v / 100,
           "softplus": lambda v: mpmath.log1p(mpmath.exp(v))}[output]
    return [one(v) for v in a]


def _mp_cost(cost, output, a, y):
    """The per-sample cost of logits ``a`` against targets ``y`` (lists of mpf), from the textbook formula."""
    p = _mp_outputs(output, a)
    if cost == "quadratic":
        return mpmath.fsum((q - t) ** 2 for q, t in zip(p, y)) / 2
    if cost == "cross_entropy":
        return -mpmath.fsum(t * mpmath.log(q) for q, t in zip(p, y) if t != 0)
    return -mpmath.fsum((t * mpmath.log(q) if t != 0 else 0) + ((1 - t) * mpmath.log(1 - q) if t != 1 else 0)
                        for q, t in zip(p, y))


ACCEPTED = [("quadratic", o) for o in ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "softmax")] \
    + [(c, o) for c in ("binary_cross_entropy", "cross_entropy") for o in ("sigmoid", "softmax")]


@pytest.mark.parametrize("cost_name,output", ACCEPTED)
@pytest.mark.parametrize("dtype,bound", [("float64", 1000.0), ("float32", 80.0)])
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_every_accepted_pair_matches_high_precision_arithmetic(cost_name, output, dtype, bound, data):
    k = data.draw(st.integers(1 if output != "softmax" else 2, 4), label="k")
    logit = st.floats(-bound, bound, allow_nan=False).map(lambda v: float(np.dtype(dtype).type(v)))
    a = np.array([data.draw(st.lists(logit, min_size=k, max_size=k), label="a")], dtype=dtype)
    if cost_name == "quadratic":
        y = np.array([data.draw(st.lists(st.floats(-2, 2), min_size=k, max_size=k), label="y")], dtype=dtype)
    else:
        y = np.array([data.draw(st.lists(st.sampled_from([0.0, 1.0, 0.25, 0.5]), min_size=k, max_size=k),
                                label="y")], dtype=dtype)
    if output in ("relu", "leaky_relu"):
        assume(np.all(np.abs(a) > 1e-3))  # no derivative at the kink
    cost, act = get_cost(cost_name), get_activation(output)
    value = cost.output_per_sample(act, a, act.forward(a.copy()), y)[0]
    delta = cost.output_delta(act, a, act.forward(a.copy()), y)[0]

    # enough digits for the formulas as written: 1 − tanh(1000)² = 4e^−2000 needs 870 of them
    mpmath.mp.dps = int(0.87 * bound) + 40
    am, ym = [mpmath.mpf(float(v)) for v in a[0]], [mpmath.mpf(float(v)) for v in y[0]]
    exact = _mp_cost(cost_name, output, am, ym)
    exact_grad = [mpmath.diff(lambda v, j=j: _mp_cost(cost_name, output, am[:j] + [v] + am[j + 1:], ym), am[j])
                  for j in range(k)]

    # rounding: a few units of the terms a value is made of (logits for the logs, outputs and targets
    # for the deltas); the failures this guards against were off by 1e290, by 100 % or by 5e-4
    u = float(np.finfo(dtype).eps)
    value_scale = 1 + np.abs(a).max()
    grad_scale = 1 + np.abs(act.forward(a.copy())).max() + np.abs(y).max()
    assert abs(float(value) - float(exact)) <= 1e3 * u * abs(float(exact)) + 16 * k * u * value_scale
    for mine, theirs in zip(delta, exact_grad):
        assert abs(float(mine) - float(theirs)) <= 1e3 * u * abs(float(theirs)) + 16 * k * u * grad_scale


@pytest.mark.parametrize("cost_name,output,a,y,loss,grad", [
    # the issue's cases, written out: softmax + BCE at logits [0, 40] with y = [1, 0]:
    # −log p_0 − log(1 − p_1) = 2 (40 + log1p(e^−40)) ≈ 80, dC/da = [−2, 2] (to e^−40)
    ("binary_cross_entropy", "softmax", [0.0, 40.0], [1.0, 0.0], 80.0, [-2.0, 2.0]),
    # sigmoid + CE at logit −800, y = 1: −log σ(−800) = 800 (+ e^−800), dC/da = −σ(800) = −1
    ("cross_entropy", "sigmoid", [-800.0], [1.0], 800.0, [-1.0]),
])
def test_issue_cases_by_hand(cost_name, output, a, y, loss, grad):
    cost, act = get_cost(cost_name), get_activation(output)
    for dtype in ("float64", "float32"):
        aa, yy = np.array([a], dtype=dtype), np.array([y], dtype=dtype)
        if dtype == "float32":
            aa = np.clip(aa, -80, 80)
            loss_here = loss if output == "softmax" else 80.0
        else:
            loss_here = loss
        z = act.forward(aa.copy())
        assert cost.output_per_sample(act, aa, z, yy)[0] == pytest.approx(loss_here, rel=1e-6)
        np.testing.assert_allclose(cost.output_delta(act, aa, z, yy)[0], grad, rtol=1e-6)
