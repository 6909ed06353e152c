"""The one epoch loop, driven in chunks (as the playground and the scikit-learn wrapper drive it), gives the
same run as one ``fit``; ``apply_gradients`` after a traced step is the optimizer's own step."""
import numpy as np
import pytest

import glassnet as gn


def _data():
    rng = np.random.default_rng(7)
    return rng.standard_normal((50, 3)), rng.integers(0, 3, 50)


def _net():
    return gn.Network([3, 6, 3], activation="tanh", output="softmax", seed=1)


@pytest.mark.parametrize("chunk", [1, 3, 7, 13])
def test_a_run_in_chunks_of_steps_is_bit_identical_to_one_fit(chunk):
    x, y = _data()
    whole = _net()
    history = gn.Trainer(whole, "adam", 0.01, batch_size=8).fit(x, y, epochs=3)
    chunked = _net()
    trainer = gn.Trainer(chunked, "adam", 0.01, batch_size=8)
    trainer.begin(x, y)
    ended, steps = [], 0
    while steps < 21:  # 3 epochs of 7 batches: chunks end inside epochs and run across epoch ends
        ended += trainer.train(max_steps=min(chunk, 21 - steps))
        steps += min(chunk, 21 - steps)
    trainer.end()
    assert len(ended) == 3 and trainer.epoch == 3
    for mine, theirs in zip(chunked.get_weights(), whole.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    assert [logs["loss"] for logs in ended] == history.loss


def test_train_counts_a_partly_run_epoch_as_one():
    x, y = _data()
    trainer = gn.Trainer(_net(), batch_size=8)
    trainer.begin(x, y)
    assert trainer.train(max_steps=2) == [] and trainer.epochs_completed == 0
    ended = trainer.train(max_epochs=2)
    assert [logs["epoch"] for logs in ended] == [1, 2] and trainer.progress is None


def test_train_needs_begin_and_a_limit():
    trainer = gn.Trainer(_net())
    with pytest.raises(gn.ConfigError, match="begin"):
        trainer.train(max_steps=1)
    trainer.begin(*_data())
    with pytest.raises(gn.ConfigError, match="max_epochs or max_steps"):
        trainer.train()


def test_a_learning_rate_changed_between_chunks_applies_to_the_next_step():
    """SGD's update is w − α g: after the change, one step moves every weight by the new α times the gradient
    the engine computes at that point (written out here from the network's own gradient arrays)."""
    x, y = _data()
    net = _net()
    trainer = gn.Trainer(net, "sgd", 0.1, batch_size=50, shuffle=False)
    trainer.begin(x, y)
    trainer.train(max_steps=1)
    trainer.learning_rate = 0.025
    expected_grads = [g.copy() for pair in net.copy().gradients(x, y) for g in pair]
    before = net.get_weights()
    trainer.train(max_steps=1)
    for w0, g, w1 in zip(before, expected_grads, net.get_weights()):
        np.testing.assert_allclose(w1, w0 - 0.025 * g, rtol=1e-12, atol=1e-15)


def test_apply_gradients_after_a_trace_is_the_optimizers_step():
    """The step-through: the trace's forward/backward leaves its gradients in the store, and the trainer's
    optimizer applies them. Adam's first step, written out: m̂ = g, v̂ = g², w − α g / (|g| + ε)."""
    x, y = _data()
    net = _net()
    trainer = gn.Trainer(net, "adam", 0.01)
    before = net.get_weights()
    step = net.trace(x[:4], y[:4], learning_rate=0.01)
    grads = [g for record in step.layers for g in (record.grad_W, record.grad_b)]
    trainer.apply_gradients()
    for w0, g, w1 in zip(before, grads, net.get_weights()):
        np.testing.assert_allclose(w1, w0 - 0.01 * g / (np.abs(g) + 1e-8), rtol=1e-9, atol=1e-15)


def test_callback_state_round_trips():
    stopper = gn.EarlyStopping(patience=2)
    x, y = _data()
    gn.Trainer(_net(), batch_size=10, callbacks=[stopper]).fit(x, y, epochs=3, validation_data=(x, y))
    state = stopper.get_state()
    twin = gn.EarlyStopping(patience=2)
    twin.set_state(state)
    assert twin.get_state()["best"] == state["best"] and twin.wait == stopper.wait
    assert state["best_epoch"] in (1, 2, 3) and len(state["best_weights"]) == 4
