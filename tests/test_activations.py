import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from glassnet import ACTIVATIONS, ConfigError, UnknownNameError, get_activation
from reference import ACTIVATIONS as REF

NAMES = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "softmax"]


@pytest.mark.parametrize("name", NAMES)
def test_forward_matches_textbook_formula(name, rng):
    a = rng.normal(0, 2, (5, 4))
    np.testing.assert_allclose(get_activation(name).forward(a), REF[name](a), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_central_differences_and_autograd(name, rng):
    act = get_activation(name)
    a = rng.normal(0, 2, (4, 3))
    a[np.abs(a) < 1e-3] = 0.5  # keep away from relu's kink
    upstream = rng.normal(size=a.shape)  # an arbitrary dC/dz
    delta = act.backward(upstream, a, act.forward(a))
    # central differences of C(a) = Σ upstream * f(a)
    numeric = np.zeros_like(a)
    eps = 1e-6
    for index in np.ndindex(a.shape):
        plus, minus = a.copy(), a.copy()
        plus[index] += eps
        minus[index] -= eps
        numeric[index] = (np.sum(upstream * REF[name](plus)) - np.sum(upstream * REF[name](minus))) / (2 * eps)
    np.testing.assert_allclose(delta, numeric, rtol=1e-6, atol=1e-9)
    auto = autograd.grad(lambda v: anp.sum(upstream * REF[name](v)))(a)
    np.testing.assert_allclose(delta, auto, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_softplus_softmax_never_overflow(dtype):
    a = np.array([[-1e30, -800.0, -50.0, 0.0, 50.0, 800.0, 1e30]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        z = get_activation("sigmoid").forward(a)
        soft = get_activation("softmax").forward(a)
        plus = get_activation("softplus").forward(a)
    assert z.dtype == dtype and np.isfinite(z).all()
    assert z[0, 0] == 0.0 and z[0, -1] == 1.0 and z[0, 3] == 0.5
    assert abs(z[0, 2] - np.exp(-50.0)) / np.exp(-50.0) < 1e-5  # the tail keeps relative precision
    assert np.isfinite(soft).all() and abs(soft.sum() - 1) < 1e-6
    assert np.isfinite(plus).all() and plus[0, -1] == dtype(1e30)


def test_activations_keep_dtype():
    a = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    for name in NAMES:
        act = get_activation(name)
        z = act.forward(a)
        assert z.dtype == np.float32, name
        assert act.backward(np.ones_like(a), a, z).dtype == np.float32, name


def test_registry_lists_valid_names_and_accepts_config():
    with pytest.raises(UnknownNameError, match="sigmoid") as info:
        get_activation("sigmod")
    assert "unknown activation 'sigmod'" in str(info.value)
    assert isinstance(info.value, ValueError)
    leaky = get_activation({"name": "leaky_relu", "alpha": 0.2})
    assert leaky.alpha == 0.2 and leaky.forward(np.array([[-1.0]]))[0, 0] == -0.2
    with pytest.raises(ConfigError, match="alpha"):
        get_activation({"name": "leaky_relu", "alpha": 2})
    assert set(NAMES) <= set(ACTIVATIONS.names())
