import numpy as np
import pytest

import glassnet as gn
from glassnet import datasets

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0.0, 1.0, 1.0, 0.0])


def article_network():
    """Seed 003: 2 inputs + bias x0, 3 hidden + bias z0, 1 output; identity; every weight 1; quadratic cost."""
    return gn.Network([2, 3, 1], activation="identity", weight_init=1.0, bias_init=1.0, cost="quadratic")


def test_xor_article_forward_pass():
    net = article_network()
    out = net.forward(XOR_X[:1])
    np.testing.assert_array_equal(net.layers[0].z, [[1.0, 1.0, 1.0]])  # h = 1·1 + 1·0 + 1·0 = 1
    assert out[0, 0] == 4.0  # D0 = 1·1 + 1·1 + 1·1 + 1·1


def test_xor_article_one_step_by_the_chain_rule():
    net = article_network()
    net.fit(XOR_X[:1], XOR_Y[:1], epochs=1, batch_size=None, learning_rate=0.1, shuffle=False)
    # By hand: ŷ = 4, C = ½(4 − 0)² = 8, delta_out = ŷ − y = 4, delta_hidden = 1 · 4 · f'(a) = 4.
    # Output weights: 1 − 0.1 · z · 4 = 0.6 (z = 1 for the bias unit z0 and for z1..z3).
    # Hidden weights from x0 = 1: 1 − 0.1 · 1 · 4 = 0.6; from x1 = x2 = 0: 1 − 0.1 · 0 · 4 = 1.
    W1, b1, W2, b2 = net.get_weights()
    np.testing.assert_allclose(b1, [0.6, 0.6, 0.6], rtol=1e-15)
    np.testing.assert_allclose(W2, [[0.6], [0.6], [0.6]], rtol=1e-15)
    np.testing.assert_allclose(b2, [0.6], rtol=1e-15)
    assert (W1 == 1.0).all()  # weights fed by the zero inputs stay exactly 1.0
    # the cost on that sample went from 8 to ½ (0.6 + 3 · 0.6 · 0.6)² = ½ · 1.68² = 1.4112
    assert net.loss(XOR_X[:1], XOR_Y[:1]) == pytest.approx(0.5 * 1.68 ** 2, rel=1e-14)


def test_xor_article_setup_settles_at_one_half():
    net = article_network()
    net.fit(XOR_X, XOR_Y, epochs=1000, batch_size=None, learning_rate=0.1, shuffle=False)
    # a network of identity activations is linear: the least-squares line through XOR is the constant 0.5
    np.testing.assert_allclose(net.predict(XOR_X).ravel(), [0.5, 0.5, 0.5, 0.5], atol=1e-6)


@pytest.mark.parametrize("activation,seed", [("sigmoid", 1), ("tanh", 1), ("tanh", 2)])
def test_nonlinear_hidden_units_learn_xor(activation, seed):
    net = gn.Network([2, 4, 1], activation=activation, output="sigmoid", seed=seed)
    history = net.fit(XOR_X, XOR_Y, epochs=3000, batch_size=None, learning_rate=1.0, target_accuracy=1.0)
    assert net.evaluate(XOR_X, XOR_Y)["accuracy"] == 1.0
    np.testing.assert_array_equal(net.predict(XOR_X), [0, 1, 1, 0])
    assert "target accuracy" in history.stop_reason


def test_moons_learned_to_97_percent():
    X, y = datasets.moons(400, noise=0.2, seed=0)
    net = gn.Network([2, 16, 16, 2], activation="tanh", output="softmax", seed=0)
    net.fit(X, y, epochs=200, batch_size=32, optimizer="adam", learning_rate=0.01)
    assert net.evaluate(X, y)["accuracy"] >= 0.97


def test_spirals_learned_to_97_percent():
    X, y = datasets.spirals(400, seed=0)
    net = gn.Network([2, 32, 32, 2], activation="relu", output="softmax", seed=0)
    net.fit(X, y, epochs=300, batch_size=32, optimizer="adam", learning_rate=0.01)
    assert net.evaluate(X, y)["accuracy"] >= 0.97


@pytest.mark.parametrize("batch_size", [None, 1, 7])
def test_same_seed_gives_bit_identical_weights(batch_size):
    X, y = datasets.moons(100, seed=3)

    def run():
        net = gn.Network([2, 8, 2], activation="tanh", output="softmax", seed=42)
        net.fit(X, y, epochs=5, batch_size=batch_size, optimizer="adam", learning_rate=0.01)
        return net.get_weights()

    for a, b in zip(run(), run()):
        assert a.tobytes() == b.tobytes()


def test_batch_minibatch_stochastic_take_the_expected_number_of_steps():
    X, y = datasets.blobs(30, seed=0)
    for batch_size, steps in [(None, 1), (10, 3), (1, 30), (7, 5)]:
        net = gn.Network([2, 3], activation="softmax", seed=0)
        trainer = gn.Trainer(net, batch_size=batch_size)
        trainer.fit(X, y, epochs=1)
        assert trainer.optimizer.t == steps


def test_batch_gradient_descent_step_equals_full_gradient():
    X, y = datasets.blobs(20, seed=1)
    net = gn.Network([2, 4, 3], activation="tanh", output="softmax", seed=0)
    expected = [w - 0.5 * g for w, g in zip(net.get_weights(), [g.copy() for p in net.gradients(X, y) for g in p])]
    net.fit(X, y, epochs=1, batch_size=None, learning_rate=0.5)
    for a, b in zip(net.get_weights(), expected):
        np.testing.assert_allclose(a, b, rtol=1e-14)


def test_history_validation_and_callbacks():
    X, y = datasets.moons(200, seed=0)
    Xv, yv = datasets.moons(100, seed=1)
    seen = []

    class Recorder(gn.Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            seen.append((epoch, sorted(logs)))

    net = gn.Network([2, 8, 2], activation="tanh", output="softmax", seed=0)
    history = net.fit(X, y, epochs=4, validation_data=(Xv, yv), callbacks=[Recorder()])
    assert history.epochs == [1, 2, 3, 4] and len(history.val_loss) == 4 and len(history.val_accuracy) == 4
    assert seen[0] == (1, ["accuracy", "epoch", "learning_rate", "loss", "val_accuracy", "val_loss"])
    assert history.val_loss[-1] == pytest.approx(net.evaluate(Xv, yv)["loss"])


def test_early_stopping_restores_best_weights():
    X, y = datasets.moons(60, noise=0.4, seed=0)
    Xv, yv = datasets.moons(60, noise=0.4, seed=9)
    net = gn.Network([2, 64, 64, 2], activation="relu", output="softmax", seed=0)
    history = net.fit(X, y, epochs=400, optimizer="adam", learning_rate=0.02, validation_data=(Xv, yv),
                      early_stopping=5)
    assert "early stopping" in history.stop_reason and len(history) < 400
    best = int(np.argmin(history.val_loss))
    assert history.best_epoch == best + 1
    assert net.evaluate(Xv, yv)["loss"] == pytest.approx(history.val_loss[best], rel=1e-12)


def test_target_loss_stops_training():
    X, y = datasets.moons(200, seed=0)
    net = gn.Network([2, 16, 2], activation="tanh", output="softmax", seed=0)
    history = net.fit(X, y, epochs=500, optimizer="adam", learning_rate=0.01, target_loss=0.2)
    assert history.loss[-1] <= 0.2 and len(history) < 500 and "target loss" in history.stop_reason


def test_regression_learns_a_curve():
    X, y = datasets.regression(300, seed=0)
    net = gn.Network([1, 32, 32, 1], activation="tanh", output="identity", seed=0)
    net.fit(X, y, epochs=300, optimizer="adam", learning_rate=0.01)
    residual = net.predict(X).ravel() - y
    assert np.sqrt(np.mean(residual ** 2)) < 0.2 and net.task == "regression"
    assert "accuracy" not in net.evaluate(X, y)


def test_float32_end_to_end_without_upcast():
    X, y = datasets.moons(100, seed=0)
    net = gn.Network([2, 8, 2], activation="tanh", output="softmax", seed=0, dtype="float32")
    net.fit(X.astype(np.float32), y, epochs=3, optimizer="adam", learning_rate=0.01)
    assert all(p.dtype == np.float32 for p in net.parameters())
    net.gradients(X, y)
    for layer in net.layers:
        for value in (layer.x, layer.a, layer.z, layer.delta, layer.grad_W, layer.grad_b):
            assert value.dtype == np.float32
    assert net.predict_proba(X).dtype == np.float32


def test_float32_optimizer_state_stays_float32():
    X, y = datasets.moons(50, seed=0)
    net = gn.Network([2, 4, 2], activation="relu", output="softmax", seed=0, dtype="float32")
    trainer = gn.Trainer(net, optimizer="adamw", learning_rate=0.01)
    trainer.fit(X, y, epochs=2)
    for state in trainer.optimizer.state:
        assert state["m"].dtype == np.float32 and state["v"].dtype == np.float32
    assert all(p.dtype == np.float32 for p in net.parameters())
