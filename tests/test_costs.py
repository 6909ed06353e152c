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
