import importlib.util

import numpy as np
import pytest

import glassnet as gn
from glassnet import blas


def test_dog_breed_network_counts_and_print():
    net = gn.Network([625, 20, 20, 10], activation="sigmoid", output="softmax", seed=0)
    assert net.n_weights == 625 * 20 + 20 * 20 + 20 * 10 == 13_100
    assert net.n_biases == 20 + 20 + 10 == 50
    assert repr(net) == ("Network(625 -> 20 sigmoid -> 20 sigmoid -> 10 softmax; 13,100 weights, 50 biases; "
                         "cost cross_entropy)")
    assert [layer.W.shape for layer in net.layers] == [(625, 20), (20, 20), (20, 10)]
    assert net.forward(np.zeros((3, 625))).shape == (3, 10)


def test_explicit_layers_and_default_costs():
    net = gn.Network([gn.Dense(2, 3, "tanh"), gn.Dense(3, 1, "sigmoid")], seed=0)
    assert net.sizes == [2, 3, 1] and net.cost.name == "binary_cross_entropy"
    assert gn.Network([2, 2], activation="identity").cost.name == "quadratic"
    assert gn.Network([2, 3, 2], output="softmax").cost.name == "cross_entropy"
    assert repr(net.layers[0]) == "Dense(2 -> 3, activation=tanh)"


def test_forward_is_x_at_W_plus_b_then_f():
    net = gn.Network([3, 2], activation="tanh", seed=1)
    x = np.array([[0.5, -1.0, 2.0]])
    W, b = net.layers[0].W, net.layers[0].b
    expected = np.tanh(x @ W + b)
    np.testing.assert_allclose(net.forward(x), expected, rtol=1e-15)
    np.testing.assert_allclose(net.layers[0].a, x @ W + b, rtol=1e-15)


def test_initializers_statistics_and_determinism():
    rng = np.random.default_rng(0)
    for name, std in [("glorot_uniform", np.sqrt(2 / 700)), ("glorot_normal", np.sqrt(2 / 700)),
                      ("he_uniform", np.sqrt(2 / 400)), ("he_normal", np.sqrt(2 / 400))]:
        w = gn.get_initializer(name)((400, 300), rng, np.float64)
        assert w.std() == pytest.approx(std, rel=0.02), name
        assert abs(w.mean()) < 0.01 * std * 10
    assert np.array_equal(gn.get_initializer("constant")((2, 2), rng, np.float32), np.ones((2, 2)))
    assert gn.get_initializer({"name": "constant", "value": 0.5})((3,), rng, np.float64).tolist() == [0.5] * 3
    assert gn.get_initializer("zeros")((2,), rng, np.float32).dtype == np.float32
    a = gn.Network([4, 5, 3], seed=7).get_weights()
    b = gn.Network([4, 5, 3], seed=7).get_weights()
    c = gn.Network([4, 5, 3], seed=8).get_weights()
    assert all(x.tobytes() == y.tobytes() for x, y in zip(a, b))
    assert any(x.tobytes() != y.tobytes() for x, y in zip(a, c))


def test_auto_initializer_is_he_for_relu_and_glorot_otherwise():
    net = gn.Network([4, 8, 8, 2], activation="relu", output="softmax", seed=0)
    assert [layer.weight_init.get_config()["name"] for layer in net.layers] == ["he_uniform", "he_uniform",
                                                                          "glorot_uniform"]


def test_config_round_trip_and_copy():
    net = gn.Network([3, 4, 2], activation={"name": "leaky_relu", "alpha": 0.1}, output="softmax",
                     l2=0.01, seed=3, dtype="float32")
    twin = net.copy()
    assert twin.get_config() == net.get_config()
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    assert np.array_equal(twin.predict_proba(x), net.predict_proba(x))
    twin.layers[0].W[0, 0] += 1
    assert not np.array_equal(twin.predict_proba(x), net.predict_proba(x))


def test_deltas_and_gradients_are_exposed_after_backward():
    net = gn.Network([3, 4, 2], activation="sigmoid", output="softmax", seed=0)
    x, y = np.ones((2, 3)), np.array([0, 1])
    net.forward(x)
    net.backward(y)
    for layer in net.layers:
        assert layer.delta.shape == (2, layer.n_out)
        assert layer.grad_W.shape == layer.W.shape and layer.grad_b.shape == layer.b.shape
    # delta_1 = (delta_2 @ W_2.T) ⊙ f'(a_1), with f' = z(1 − z) for sigmoid
    lower, upper = net.layers
    np.testing.assert_allclose(lower.delta, (upper.delta @ upper.W.T) * lower.z * (1 - lower.z), rtol=1e-14)


def test_predict_for_one_sigmoid_output_and_multiclass():
    net = gn.Network([2, 1], activation="sigmoid", seed=0)
    net.layers[0].W[...] = [[1.0], [0.0]]
    assert net.predict(np.array([[2.0, 0.0], [-2.0, 0.0]])).tolist() == [1, 0]
    multi = gn.Network([2, 3], activation="softmax", seed=0)
    multi.layers[0].W[...] = np.eye(2, 3)
    assert multi.predict(np.array([[5.0, 0.0], [0.0, 5.0]])).tolist() == [0, 1]


@pytest.mark.parametrize("activation", ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus"])
@pytest.mark.parametrize("output", ["softmax", "sigmoid", "identity"])
def test_in_place_prediction_equals_the_cached_forward_pass(activation, output):
    net = gn.Network([3, 5, 4], activation=activation, output=output,
                     cost="quadratic" if output == "identity" else None, seed=4)
    x = np.random.default_rng(1).normal(0, 3, (6, 3))
    expected = net.forward(x).copy()
    got = net.predict(x) if output == "identity" else net.predict_proba(x)
    np.testing.assert_array_equal(got, expected)


def test_threads_helper():
    from glassnet.threads import blas_threads, limit_threads

    with limit_threads(1):
        assert all(n == 1 for n in blas_threads().values())
    with pytest.raises(gn.ConfigError, match="threads"):
        with limit_threads(0):
            pass


def test_explicit_layers_start_from_the_network_seed_and_learn_xor():
    """The README's explicit construction: layers the user did not set are drawn from the network's seed
    (Glorot uniform here, |w| <= sqrt(6 / (fan_in + fan_out))), so the network is not stuck at all-zero
    weights (loss ln 2 = 0.693147 for ever) and learns XOR."""
    net = gn.Network([gn.Dense(2, 3, "tanh"), gn.Dense(3, 1, "sigmoid")], seed=0)
    limits = [np.sqrt(6 / (2 + 3)), np.sqrt(6 / (3 + 1))]
    for layer, limit in zip(net.layers, limits):
        assert np.all(layer.W != 0) and np.all(np.abs(layer.W) <= limit)
    twin = gn.Network([gn.Dense(2, 3, "tanh"), gn.Dense(3, 1, "sigmoid")], seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(net.get_weights(), twin.get_weights()))  # one seed, one net
    X, y = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float), np.array([0, 1, 1, 0])
    net.fit(X, y, epochs=2000, batch_size=4, optimizer="adam", learning_rate=0.05, shuffle=False)
    assert net.loss(X, y) < 0.05 < np.log(2)
    assert net.predict(X).tolist() == [0, 1, 1, 0]


def test_weights_the_user_set_on_a_layer_are_kept():
    layer = gn.Dense(2, 2, "identity")
    layer.W = [[1.0, 2.0], [3.0, 4.0]]
    layer.b = [0.5, -0.5]
    untouched = gn.Dense(2, 1, "identity")
    net = gn.Network([layer, untouched], seed=1)
    np.testing.assert_array_equal(net.layers[0].W, [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(net.layers[0].b, [0.5, -0.5])
    assert np.all(net.layers[1].W != 0)  # the layer without weights of its own was initialised
    # ŷ = (x W1 + b1) W2 + b2 with identity activations, written out for x = (1, 1)
    W2, b2 = net.layers[1].W, net.layers[1].b
    expected = (np.array([1.0, 1.0]) @ np.array([[1.0, 2.0], [3.0, 4.0]]) + [0.5, -0.5]) @ W2 + b2
    np.testing.assert_allclose(net.predict(np.array([[1.0, 1.0]]))[0], expected, rtol=1e-14)


def test_text_labels_are_refused_with_where_to_take_them():
    net = gn.Network([2, 3, 2], activation="tanh", output="softmax", seed=0)
    with pytest.raises(gn.DataError) as caught:
        net.fit(np.zeros((3, 2)), np.array(["cat", "dog", "cat"]), epochs=1)
    assert "class indices 0..n_outputs-1" in str(caught.value) and "GlassnetClassifier" in str(caught.value)


def test_softmax_over_one_unit_is_refused_with_what_to_use_instead():
    """Softmax over one unit is e^a / e^a = 1 for every input: a network built so would report a loss of 0 and
    learn nothing, so it is refused wherever a layer is made (Network, Dense, a model file's config)."""
    for build in (lambda: gn.Network([2, 3, 1], output="softmax"), lambda: gn.Dense(3, 1, activation="softmax"),
                  lambda: gn.Network([2, 1, 2], activation="softmax", output="softmax")):
        with pytest.raises(gn.ConfigError, match="one sigmoid output"):
            build()
    assert gn.Network([2, 3, 2], output="softmax").n_outputs == 2  # two units are fine


def test_a_step_of_small_products_is_counted_as_one_thread_by_openblas_rule():
    from glassnet.threads import OPENBLAS_ONE_THREAD_BELOW, products_on_one_thread

    assert OPENBLAS_ONE_THREAD_BELOW == 65_536 * 4
    # 32 rows: 32·20·64 = 40,960 and 32·64·64 = 131,072 multiply-adds, both below 262,144
    assert products_on_one_thread([20, 64, 64, 3], 32)
    # 32 rows of 784 -> 256: 6,422,528 multiply-adds, threaded by OpenBLAS
    assert not products_on_one_thread([784, 256, 10], 32)
    assert not products_on_one_thread([20, 64, 64, 3], 64)  # 64·64·64 = 262,144 is not below


@pytest.mark.skipif(blas.openblas_threads() is None, reason="numpy ships no OpenBLAS here")
def test_fit_runs_small_products_on_one_blas_thread_and_restores_the_setting():
    seen = []

    class Threads(gn.Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            seen.append(blas.openblas_threads())

    before = blas.openblas_threads()
    blas.set_openblas_threads(2)
    try:
        rng = np.random.default_rng(0)
        X, y = rng.standard_normal((200, 20)), rng.integers(0, 3, 200)
        gn.Network([20, 64, 64, 3], activation="relu", output="softmax").fit(
            X, y, epochs=2, batch_size=32, validation_data=(X, y), callbacks=[Threads()])
        assert seen == [1, 1] and blas.openblas_threads() == 2
        seen.clear()
        gn.Network([20, 64, 64, 3], activation="relu", output="softmax").fit(  # 128·64·64 > 262,144: left alone
            X, y, epochs=1, batch_size=128, callbacks=[Threads()])
        assert seen == [2] and blas.openblas_threads() == 2
    finally:
        blas.set_openblas_threads(before)


@pytest.mark.skipif(blas.openblas_threads() is None or importlib.util.find_spec("threadpoolctl") is None,
                    reason="numpy ships no OpenBLAS here, or threadpoolctl is missing")
def test_a_thread_count_asked_for_is_kept_for_small_products_too():
    from glassnet.threads import limit_threads

    seen = []

    class Threads(gn.Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            seen.append(blas.openblas_threads())

    X, y = np.random.default_rng(0).standard_normal((64, 20)), np.arange(64) % 3
    with limit_threads(2):
        asked = blas.openblas_threads()  # 2 (1 on a one-core machine, where OpenBLAS starts one thread)
        gn.Network([20, 8, 3], output="softmax").fit(X, y, epochs=1, callbacks=[Threads()])
    assert seen == [asked]
