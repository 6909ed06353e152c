"""The engine under ``array_api_strict``: forward, backward and an optimizer step in a namespace that has only
the Python array API standard (no ``out=``, no views promised, no array methods beyond the standard).

A network moved there with ``Network.to_namespace`` must give the numbers the numpy engine gives from the
same weights (to 1e-12 in float64), and its arrays must really be strict arrays: that shows the engine calls
nothing outside the standard, which is what the CuPy path relies on. One forward pass is also checked
against the formulas written out here in numpy.
"""
from __future__ import annotations

import array_api_strict as xps
import numpy as np
import pytest

from glassnet import Network
from glassnet.backend import OutlessNamespace, engine_namespace, namespace_of, numpy_like, to_numpy
from glassnet.optimizers import get_optimizer
from glassnet.params import LayerwiseParameterStore, ParameterStore, Workspace

TOLERANCE = dict(rtol=1e-12, atol=1e-12)

# (hidden activation, output activation, cost): every activation and every cost, fused and unfused pairs
NETWORKS = [
    ("sigmoid", "softmax", "cross_entropy"),      # fused softmax + CE
    ("tanh", "sigmoid", "binary_cross_entropy"),  # fused sigmoid + BCE
    ("relu", "identity", "quadratic"),            # fused identity + quadratic
    ("leaky_relu", "softplus", "quadratic"),      # unfused, element-wise output
    ("softplus", "softmax", "quadratic"),         # unfused softmax Jacobian
    ("identity", "sigmoid", "cross_entropy"),     # unfused CE on sigmoid outputs
    ("tanh", "softmax", "binary_cross_entropy"),  # unfused BCE on softmax outputs
    ("relu", "sigmoid", "quadratic"),             # unfused sigmoid derivative
]

OPTIMIZERS = [("sgd", {}), ("momentum", {}), ("momentum", {"nesterov": True}), ("adam", {}),
              ("adamw", {"weight_decay": 0.1})]


def _data(n_samples: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_samples, 4))
    y = np.eye(3)[rng.integers(0, 3, n_samples)]
    return x, y


def _pair(hidden: str, output: str, cost: str, l2: float = 0.0):
    """A float64 numpy network and its twin in array_api_strict, from identical weights."""
    network = Network([4, 6, 5, 3], activation=hidden, output=output, cost=cost, seed=3, l2=l2)
    twin = network.copy().to_namespace(xps)
    return network, twin


def _close(actual, expected):
    np.testing.assert_allclose(to_numpy(actual), to_numpy(expected), **TOLERANCE)


def test_a_moved_network_holds_strict_arrays_in_a_layerwise_store():
    network, twin = _pair("tanh", "softmax", "cross_entropy")
    assert isinstance(twin.params, LayerwiseParameterStore)
    assert type(network.params) is ParameterStore
    for layer in twin.layers:
        for array in (layer.W, layer.b, layer.grad_W, layer.grad_b):
            assert type(array).__module__.startswith("array_api_strict")
    assert namespace_of(twin.layers[0].W) is twin.xp
    _close(twin.params.get_vector(), network.params.get_vector())
    assert twin.device == "array_api_strict"
    back = twin.to_namespace(np)  # and back to numpy: flat views again, same values
    assert type(back.params) is ParameterStore and back.device == "cpu"
    _close(back.params.get_vector(), network.params.get_vector())


def test_namespaces():
    assert namespace_of(np.zeros(2)) is np and numpy_like(np)
    strict = engine_namespace(xps)
    assert isinstance(strict, OutlessNamespace) and not numpy_like(strict)
    assert engine_namespace(strict) is strict and engine_namespace(np) is np
    assert namespace_of(xps.zeros(2)) is strict


def test_out_and_where_are_written_as_numpy_writes_them():
    values = np.array([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]])
    mask = values > 0
    expected = values.copy()
    np.subtract(1.0, expected, out=expected, where=mask)  # numpy's own in-place masked write
    strict = engine_namespace(xps)
    out = xps.asarray(values)
    returned = strict.subtract(1.0, out, out=out, where=xps.asarray(mask))
    assert returned is out
    np.testing.assert_array_equal(to_numpy(out), expected)
    kept = strict.empty((2, 3), dtype=np.float64)  # a numpy dtype becomes the namespace's own
    assert strict.matmul(xps.asarray(values), xps.eye(3, dtype=xps.float64), out=kept) is kept
    np.testing.assert_array_equal(to_numpy(kept), values)


def test_forward_matches_the_formulas_written_out():
    network, twin = _pair("tanh", "softmax", "cross_entropy")
    x, _ = _data(5)
    (W1, b1, W2, b2, W3, b3) = network.get_weights()
    z1 = np.tanh(x @ W1 + b1)
    z2 = np.tanh(z1 @ W2 + b2)
    a3 = z2 @ W3 + b3
    expected = np.exp(a3) / np.exp(a3).sum(axis=1, keepdims=True)
    _close(twin.forward(x), expected)
    _close(twin.outputs(x), expected)


@pytest.mark.parametrize("hidden, output, cost", NETWORKS)
def test_forward_and_backward_match_numpy(hidden, output, cost):
    network, twin = _pair(hidden, output, cost, l2=0.01)
    x, y = _data(7)
    loss = network.loss_and_grad(x, y)
    assert twin.loss_and_grad(x, y) == pytest.approx(loss, rel=1e-12, abs=1e-12)
    _close(twin.last_outputs, network.last_outputs)
    _close(twin.params.gradient_vector(), network.params.gradient_vector())
    for layer, mirror in zip(network.layers, twin.layers):
        _close(mirror.delta, layer.delta)


@pytest.mark.parametrize("hidden, output, cost", NETWORKS[:3])
def test_workspace_one_sample_and_sample_weights_match_numpy(hidden, output, cost):
    network, twin = _pair(hidden, output, cost)
    x, y = _data(6)
    weight = np.linspace(0.5, 2.0, 6)
    spaces = Workspace(), Workspace()
    for rows in (slice(0, 6), slice(0, 6), slice(2, 3)):  # kept arrays reused, then the one-sample path
        expected = network.loss_and_grad(x[rows], y[rows], weight[rows], workspace=spaces[0])
        got = twin.loss_and_grad(x[rows], y[rows], weight[rows], workspace=spaces[1])
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)
        _close(twin.params.gradient_vector(), network.params.gradient_vector())


@pytest.mark.parametrize("name, options", OPTIMIZERS)
@pytest.mark.parametrize("hidden, output, cost", NETWORKS[:2])
def test_optimizer_steps_match_numpy(name, options, hidden, output, cost):
    network, twin = _pair(hidden, output, cost, l2=0.01)
    x, y = _data(8)
    optimizers = get_optimizer(name, **options), get_optimizer(name, **options)
    start = network.params.get_vector()
    for _ in range(2):  # the second step reads the state (velocity, moments) the first one left
        for net, optimizer in zip((network, twin), optimizers):
            net.loss_and_grad(x, y)
            optimizer.step(net.params.groups, 0.05)
        _close(twin.params.get_vector(), network.params.get_vector())
    assert np.abs(network.params.get_vector() - start).max() > 1e-4  # the steps moved the weights


def test_set_vector_and_zero_grad_in_the_layerwise_store():
    network, twin = _pair("sigmoid", "sigmoid", "binary_cross_entropy")
    vector = np.arange(network.n_parameters, dtype=np.float64) / 100.0
    twin.params.set_vector(vector)
    _close(twin.params.get_vector(), vector)
    np.testing.assert_array_equal(to_numpy(twin.layers[1].b), vector[network.n_weights + 6:network.n_weights + 11])
    x, y = _data(4)
    twin.loss_and_grad(x, y)
    twin.params.zero_grad()
    np.testing.assert_array_equal(twin.params.gradient_vector(), np.zeros(network.n_parameters))


@pytest.mark.parametrize("sizes, output", [([4, 6, 3], "softmax"), ([4, 6, 1], "sigmoid")])
def test_predictions_match_numpy(sizes, output):
    network = Network(sizes, activation="relu", output=output, seed=5)
    twin = network.copy().to_namespace(xps)
    x, _ = _data(9)
    np.testing.assert_array_equal(twin.predict(x), network.predict(x))
    _close(twin.predict_proba(x), network.predict_proba(x))


@pytest.mark.parametrize("shuffle", [True, False, "blocks"])
@pytest.mark.parametrize("options", [dict(optimizer="sgd", batch_size=4), dict(optimizer="adam", batch_size=1),
                                     dict(optimizer="momentum", batch_size=None, clip_norm=0.05),
                                     dict(optimizer="sgd", batch_size=3, clip_value=0.01)])
def test_fit_under_the_standard_matches_numpy(shuffle, options):
    """The trainer's whole loop (shuffled batches, sample weights, validation, accuracy, the gradient checks)
    runs on strict arrays and lands on numpy's weights and history."""
    network, twin = _pair("tanh", "softmax", "cross_entropy", l2=0.01)
    x, y = _data(10)
    weights = np.linspace(0.5, 1.5, 10)
    start = network.params.get_vector()
    histories = [net.fit(x, y.argmax(axis=1), epochs=3, learning_rate=0.1, shuffle=shuffle, sample_weight=weights,
                         validation_data=(x[:4], y[:4]), **options) for net in (network, twin)]
    assert np.abs(network.params.get_vector() - start).max() > 1e-4  # the run moved the weights
    _close(twin.params.get_vector(), network.params.get_vector())
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(getattr(histories[1], key), getattr(histories[0], key), **TOLERANCE)
    assert all(type(layer.W).__module__.startswith("array_api_strict") for layer in twin.layers)
