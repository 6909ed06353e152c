"""Each bad input gets a clear error: the right type, and a message naming the problem."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import datasets


@pytest.fixture
def net():
    return gn.Network([3, 4, 2], activation="tanh", output="softmax", seed=0)


X = np.arange(12, dtype=float).reshape(4, 3) / 10
Y = np.array([0, 1, 1, 0])


@pytest.mark.parametrize("x,y,error,words", [
    (X, Y[:3], gn.ShapeError, ["4 samples", "y has 3"]),
    (X[:, :2], Y, gn.ShapeError, ["2 features", "expects 3"]),
    (np.where(X == X[1, 2], np.nan, X), Y, gn.DataError, ["NaN or infinite", "(1, 2)"]),
    (np.where(X == X[0, 0], np.inf, X), Y, gn.DataError, ["NaN or infinite", "(0, 0)"]),
    (X, np.array([0.0, 1.0, np.nan, 0.0]), gn.DataError, ["y contains", "NaN"]),
    (X, np.array([0, 1, 2, 0]), gn.LabelError, ["class label 2", "0..1"]),
    (X, np.array([0, 1, -1, 0]), gn.LabelError, ["class label -1"]),
    (X, np.array([0, 0.5, 1, 0]), gn.LabelError, ["whole numbers"]),
    (np.empty((0, 3)), np.empty(0), gn.DataError, ["empty", "0 samples"]),
    (np.array([["a", "b", "c"]] * 4), Y, gn.DataError, ["numeric", "dtype"]),
    ([[1, 2, 3], [4, 5]], Y, gn.DataError, ["rectangular"]),
    (X[0], Y[:1], gn.ShapeError, ["2-D", "reshape"]),
    (X, np.ones((4, 3)), gn.ShapeError, ["3 columns", "2 outputs"]),
    (X, np.full((4, 2), 2.0), gn.LabelError, ["[0, 1]"]),
    (None, Y, gn.DataError, ["None"]),
])
def test_bad_data(net, x, y, error, words):
    with pytest.raises(error) as info:
        net.fit(x, y, epochs=1)
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    assert isinstance(info.value, gn.GlassnetError) and isinstance(info.value, ValueError)


def test_wrong_width_at_predict_names_the_layer(net):
    with pytest.raises(gn.ShapeError, match=r"5 features per sample, but the first layer expects 3"):
        net.predict(np.zeros((2, 5)))


@pytest.mark.parametrize("options,words", [
    ({"batch_size": 0}, ["batch_size", ">= 1"]),
    ({"batch_size": 2.5}, ["batch_size"]),
    ({"epochs": 0}, ["epochs"]),
    ({"learning_rate": -0.1}, ["learning_rate", "> 0"]),
    ({"learning_rate": float("nan")}, ["learning_rate"]),
    ({"optimizer": "adamax"}, ["unknown optimizer 'adamax'", "adamw"]),
    ({"schedule": "linear"}, ["unknown schedule 'linear'", "cosine"]),
    ({"early_stopping": 0}, ["patience"]),
    ({"validation_data": X}, ["validation_data must be a pair"]),
])
def test_bad_training_settings(net, options, words):
    with pytest.raises(gn.ConfigError) as info:
        net.fit(X, Y, **{"epochs": 1, **options})
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("build,words", [
    (lambda: gn.Network([2, 3, 1], activation="sigmod"), ["unknown activation 'sigmod'", "relu", "tanh"]),
    (lambda: gn.Network([2, 1], cost="hinge"), ["unknown cost 'hinge'", "quadratic", "cross_entropy"]),
    (lambda: gn.Network([2, 1], weight_init="xavier"), ["unknown initializer 'xavier'", "glorot_uniform"]),
    (lambda: gn.Network([2, 0, 1]), ["positive integer"]),
    (lambda: gn.Network([2]), ["at least one layer"]),
    (lambda: gn.Network([]), ["non-empty"]),
    (lambda: gn.Network([2, 1], dtype="float16"), ["float32", "float64"]),
    (lambda: gn.Network([2, 1], output="relu", cost="cross_entropy"), ["needs outputs in [0, 1]", "relu"]),
    (lambda: gn.Network([gn.Dense(2, 3), gn.Dense(4, 1)]), ["do not chain"]),
    (lambda: gn.Network([2, 1], l2=-1), ["l2"]),
    (lambda: gn.Network([2, 1], device="tpu"), ["unknown device 'tpu'", "cpu", "cuda"]),
])
def test_bad_network_settings(build, words):
    with pytest.raises(gn.ConfigError) as info:
        build()
    for word in words:
        assert word in str(info.value)


def test_non_finite_loss_stops_training_and_keeps_last_finite_weights():
    X, y = datasets.regression(64, seed=0)
    net = gn.Network([1, 16, 1], activation="relu", output="identity", seed=0)
    kept = []

    class Snapshot(gn.Callback):
        def on_batch_end(self, trainer, epoch, batch, loss):
            kept[:] = [trainer.network.get_weights()]

    with pytest.raises(gn.TrainingDivergedError) as info:
        net.fit(X * 1e3, y * 1e3, epochs=50, batch_size=8, learning_rate=10.0, callbacks=[Snapshot()])
    error = info.value
    assert error.epoch >= 1 and error.batch >= 1
    message = str(error)
    assert f"epoch {error.epoch}, batch {error.batch}" in message and "smaller learning rate" in message
    assert isinstance(error, gn.NonFiniteError) and isinstance(error, ArithmeticError)
    weights = net.get_weights()
    assert all(np.isfinite(w).all() for w in weights)
    # the weights are those after the last batch whose loss and gradients were finite
    for a, b in zip(weights, kept[0]):
        assert a.tobytes() == b.tobytes()


def test_backward_before_forward():
    with pytest.raises(gn.NotFittedError, match="forward"):
        gn.Network([2, 1], seed=0).backward(np.zeros((1, 1)))


def test_predict_proba_needs_a_probability_output():
    with pytest.raises(gn.ConfigError, match="predict_proba needs a sigmoid or softmax output"):
        gn.Network([2, 1], activation="identity").predict_proba(np.zeros((1, 2)))


# ---- messages that say what happened and what to do (issue 14, point 6) ----------------------------------
import warnings  # noqa: E402

from glassnet.errors import TrainingWarning  # noqa: E402

FLOAT32_MAX = (2 - 2.0 ** -23) * 2.0 ** 127  # 3.4028e38, the largest float32, from its bit layout


def test_an_exploding_gradient_message_is_whole_and_names_both_remedies():
    X, y = datasets.regression(64, seed=0)
    net = gn.Network([1, 16, 1], activation="relu", output="identity", seed=0)
    with pytest.raises(gn.TrainingDivergedError) as info:
        net.fit(X, y * 1e3, epochs=1, batch_size=8, learning_rate=0.1, explode_threshold=1.0)
    message = str(info.value)
    assert "exploded (norm" in message and " or." not in message and "or\n" not in message
    assert message.rstrip().endswith("(clip_norm=... in Python, --clip-norm on the command line).")
    assert "smaller learning rate (now 0.1)" in message


def _digits_cross_entropy(net, X, y):
    """The mean cross-entropy of the network on (X, y), written out in numpy from its weights."""
    h = X
    weights = net.get_weights()
    for i in range(0, len(weights), 2):
        h = h @ weights[i] + weights[i + 1]
        if i + 2 < len(weights):
            h = 1 / (1 + np.exp(-h))
    h = h - h.max(axis=1, keepdims=True)
    log_p = h - np.log(np.exp(h).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].mean())


def _digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X - X.mean(0)) / (X.std(0) + 1e-9), y


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_a_loss_that_ends_far_above_its_start_warns(optimizer):
    X, y = _digits()
    net = gn.Network([64, 20, 20, 10], activation="sigmoid", output="softmax", seed=0)
    start = _digits_cross_entropy(net, X, y)
    with pytest.warns(TrainingWarning, match="Try a smaller learning rate") as caught:
        history = net.fit(X, y, epochs=3, batch_size=32, optimizer=optimizer, learning_rate=1e6)
    assert history.loss[-1] > 1000 * start  # the run really did end far above where it began
    assert history.warnings == [str(w.message) for w in caught if w.category is TrainingWarning]


def test_a_run_that_learns_does_not_warn():
    X, y = _digits()
    net = gn.Network([64, 20, 10], activation="sigmoid", output="softmax", seed=0)
    start = _digits_cross_entropy(net, X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingWarning)
        history = net.fit(X, y, epochs=3, optimizer="adam", learning_rate=0.01)
    assert history.loss[-1] < start and history.warnings == []


@pytest.mark.parametrize("call", ["fit", "predict"])
def test_data_beyond_float32_says_so(call):
    with np.errstate(over="ignore"):
        assert np.float32(1e39) == np.inf and 1e39 > FLOAT32_MAX  # the premise, in numpy's own arithmetic
    net = gn.Network([2, 3, 2], output="softmax", seed=0, dtype="float32")
    X = np.array([[1.0, 2.0], [1e39, 0.0]])
    with pytest.raises(gn.DataError) as info:
        net.fit(X, [0, 1], epochs=1) if call == "fit" else net.predict(X)
    message = str(info.value)
    assert "too large for float32" in message and "(1, 0)" in message and "1e+39" in message
    assert "3.403e+38" in message and "float64" in message
    assert "learning rate" not in message and "NaN" not in message and "before training" not in message
