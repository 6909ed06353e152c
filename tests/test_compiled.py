"""The compiled engine (glassnet.compiled, numba) against the numpy path, the reference.

The numpy path's numbers are checked against PyTorch and central differences elsewhere; here every supported
activation, cost and optimizer must give the same weights after an epoch on both engines (1e-12 in float64,
1e-6 in float32), and everything the engine cannot run must fall back to numpy, with a warning only when
the compiled engine was asked for by name. Networks are tiny, so the suite stays fast (the kernels are
compiled once per machine and cached on disk by numba).
"""
import warnings

import numpy as np
import pytest

import glassnet as gn
from glassnet import compiled
from glassnet.errors import ConfigError, TrainingDivergedError
from glassnet.callbacks import Callback
from glassnet.training import Trainer

TOLERANCE = {"float64": 1e-12, "float32": 1e-6}
# (hidden activation, output activation, cost): the three fused pairs, the general chain rule through
# softmax and sigmoid, and every hidden activation
PAIRS = [
    ("relu", "softmax", "cross_entropy"),
    ("tanh", "sigmoid", "binary_cross_entropy"),
    ("sigmoid", "identity", "quadratic"),
    ("leaky_relu", "softmax", "quadratic"),
    ("softplus", "sigmoid", "quadratic"),
    ("identity", "tanh", "quadratic"),
]
OPTIMIZERS = ["sgd", "momentum", "nesterov", "adam", "adamw"]


def problem(output: str, n_outputs: int = 3, n: int = 24, seed: int = 1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    if output == "softmax":
        return X, rng.integers(0, n_outputs, n)
    if output == "sigmoid":
        return X, (rng.random((n, n_outputs)) > 0.5).astype(float)
    return X, rng.standard_normal((n, n_outputs)) * 0.5


def trained(engine: str, dtype: str, optimizer: str, pair, batch_size: int, l2: float = 0.0, epochs: int = 1):
    hidden, output, cost = pair
    X, y = problem(output)
    net = gn.Network([4, 5, 3], activation=hidden, output=output, cost=cost, seed=0, dtype=dtype, l2=l2)
    history = net.fit(X, y, epochs=epochs, batch_size=batch_size, optimizer=optimizer, learning_rate=0.02,
                      engine=engine)
    return net, history


def flat(net):
    return np.concatenate([w.ravel() for w in net.get_weights()])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("pair", PAIRS, ids="-".join)
def test_an_epoch_gives_the_numpy_paths_weights(dtype, optimizer, pair):
    # a BLAS product; the outer product with L2; one row without L2 (SGD: the outer product applied to W directly)
    for batch_size, l2 in ((8, 0.0), (1, 0.01), (1, 0.0)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the compiled engine must really run: no fallback warning
            fast, fast_history = trained("compiled", dtype, optimizer, pair, batch_size, l2)
        reference, history = trained("numpy", dtype, optimizer, pair, batch_size, l2)
        np.testing.assert_allclose(flat(fast), flat(reference), rtol=0, atol=TOLERANCE[dtype])
        np.testing.assert_allclose(fast_history.loss, history.loss, rtol=10 * TOLERANCE[dtype])
        assert fast_history.accuracy == history.accuracy


def test_the_compiled_engine_writes_the_networks_own_arrays_and_optimizer_state():
    """A compiled epoch followed by a numpy epoch equals two numpy epochs: the engine updated the
    network's weights and Adam's moments and step count in place, where the numpy path finds them."""
    X, y = problem("softmax")
    nets = [gn.Network([4, 5, 3], activation="tanh", output="softmax", seed=0) for _ in range(2)]
    trainers = [Trainer(net, "adam", learning_rate=0.01, batch_size=5, engine=engine)
                for net, engine in zip(nets, ("compiled", "numpy"))]
    trainers[0].fit(X, y, epochs=1)
    assert trainers[0].optimizer.t == 5
    trainers[0].engine = "numpy"
    trainers[0].fit(X, y, epochs=1)
    trainers[1].fit(X, y, epochs=2)
    np.testing.assert_allclose(flat(nets[0]), flat(nets[1]), rtol=0, atol=1e-12)
    np.testing.assert_allclose(trainers[0].optimizer.state[0]["v"], trainers[1].optimizer.state[0]["v"],
                               rtol=0, atol=1e-15)


def test_callbacks_see_every_batch_and_its_loss_in_order():
    class Losses(Callback):
        def __init__(self):
            self.seen = []

        def on_batch_end(self, trainer, epoch, batch, loss):
            self.seen.append((epoch, batch, loss))

    X, y = problem("softmax", n=23)  # a short last batch
    runs = {}
    for engine in ("compiled", "numpy"):
        recorder = Losses()
        net = gn.Network([4, 5, 3], activation="relu", output="softmax", seed=0)
        Trainer(net, "sgd", learning_rate=0.1, batch_size=4, callbacks=[recorder], engine=engine).fit(X, y, 2)
        runs[engine] = recorder.seen
    assert [s[:2] for s in runs["compiled"]] == [s[:2] for s in runs["numpy"]] == \
        [(e, b) for e in (1, 2) for b in range(1, 7)]
    np.testing.assert_allclose([s[2] for s in runs["compiled"]], [s[2] for s in runs["numpy"]], rtol=1e-12)


def test_a_diverging_run_stops_as_the_numpy_path_does():
    """The batch whose loss is not finite is handed back before its update; the numpy path raises there."""
    X, y = problem("identity")
    X[13] = 1e200  # with batch size 3 and no shuffle, row 13 is in batch 5
    errors = {}
    for engine in ("compiled", "numpy"):
        net = gn.Network([4, 5, 3], activation="relu", output="identity", seed=0)
        with pytest.raises(TrainingDivergedError) as caught, np.errstate(over="ignore"):
            net.fit(X, y, epochs=1, batch_size=3, shuffle=False, learning_rate=0.01, engine=engine)
        errors[engine] = (caught.value.epoch, caught.value.batch, str(caught.value), flat(net))
    assert errors["compiled"][:3] == errors["numpy"][:3]
    assert errors["compiled"][1] == 5
    np.testing.assert_allclose(errors["compiled"][3], errors["numpy"][3], rtol=0, atol=1e-12)


def test_data_on_disk_trains_compiled(tmp_path):
    X, y = problem("softmax")
    path = tmp_path / "x.f64"
    X.tofile(path)
    on_disk = np.memmap(path, dtype=np.float64, mode="r", shape=X.shape)
    fast = gn.Network([4, 5, 3], activation="relu", output="softmax", seed=0)
    fast.fit(on_disk, y, epochs=1, batch_size=4, engine="compiled")
    reference = gn.Network([4, 5, 3], activation="relu", output="softmax", seed=0)
    reference.fit(X, y, epochs=1, batch_size=4)
    np.testing.assert_allclose(flat(fast), flat(reference), rtol=0, atol=1e-12)


@pytest.mark.parametrize("option, reason", [
    ({"sample_weight": np.linspace(0.5, 1.5, 24)}, "sample weights"),
    ({"clip_norm": 1.0}, "clip_norm"),
    ({"clip_value": 0.5}, "clip_value"),
    ({"l1": 0.05}, "L1 penalty"),  # the kernels have no L1 term: they once trained silently without it
])
def test_unsupported_options_fall_back_to_numpy_with_one_line(option, reason):
    X, y = problem("softmax")
    results = {}
    network_option = {k: v for k, v in option.items() if k == "l1"}
    fit_option = {k: v for k, v in option.items() if k != "l1"}
    for engine in ("compiled", "auto", "numpy"):
        net = gn.Network([4, 5, 3], activation="relu", output="softmax", seed=0, **network_option)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            net.fit(X, y, epochs=1, batch_size=4, engine=engine, **fit_option)
        notes = [str(w.message) for w in caught if "engine" in str(w.message)]
        results[engine] = (notes, flat(net))
    assert len(results["compiled"][0]) == 1 and reason in results["compiled"][0][0]
    assert "\n" not in results["compiled"][0][0]
    assert results["auto"][0] == results["numpy"][0] == []  # auto falls back quietly
    np.testing.assert_array_equal(results["compiled"][1], results["numpy"][1])


def test_without_numba_the_compiled_engine_falls_back_with_a_note(monkeypatch):
    monkeypatch.setattr(compiled, "load_kernels", lambda: None)
    net = gn.Network([4, 5, 3], activation="relu", output="softmax", seed=0)
    X, y = problem("softmax")
    with pytest.warns(RuntimeWarning, match=r"numba is not installed \(pip install 'glassnet\[fast\]'\)"):
        net.fit(X, y, epochs=1, batch_size=4, engine="compiled")


def test_unsupported_layers_and_objects_are_named():
    class MyReLU(gn.activations.ReLU):
        pass

    net = gn.Network([4, 5, 3], activation=MyReLU(), output="softmax", seed=0)
    assert compiled.unsupported(net, gn.optimizers.SGD()) == "layer 1's activation MyReLU()"

    class MySGD(gn.optimizers.SGD):
        pass

    plain = gn.Network([4, 5, 3], activation="relu", output="softmax", seed=0)
    assert compiled.unsupported(plain, MySGD()) == "optimizer MySGD()"
    assert compiled.unsupported(plain, gn.optimizers.Adam()) is None


def test_an_unknown_engine_is_refused():
    net = gn.Network([4, 5, 3], seed=0)
    with pytest.raises(ConfigError, match="engine must be one of auto, numpy, compiled"):
        Trainer(net, engine="jit")


def test_runs_in_chunks_of_steps_equal_one_numpy_fit():
    """The playground's way: begin, then train(max_steps=3) again and again, across epoch ends and a
    full-batch epoch size (batch_size=None) as well."""
    X, y = problem("softmax", n=23)
    for batch_size in (4, None):
        chunked = gn.Network([4, 5, 3], activation="relu", output="softmax", seed=0)
        trainer = Trainer(chunked, "momentum", learning_rate=0.05, batch_size=batch_size, engine="compiled")
        trainer.begin(X, y)
        steps_per_epoch = 6 if batch_size else 1
        for _ in range(2 * steps_per_epoch):  # 6 epochs, in chunks of 3 steps that cross epoch ends
            trainer.train(max_steps=3)
        trainer.end()
        total_steps = 6 * steps_per_epoch
        reference = gn.Network([4, 5, 3], activation="relu", output="softmax", seed=0)
        reference.fit(X, y, epochs=total_steps // steps_per_epoch, batch_size=batch_size, optimizer="momentum",
                      learning_rate=0.05)
        assert trainer.optimizer.t == total_steps
        np.testing.assert_allclose(flat(chunked), flat(reference), rtol=0, atol=1e-12)


def test_an_interruption_stops_at_a_chunk_end_with_the_position_matching_the_weights():
    """The engine honours an interruption between its runs of batches: the error names the last batch run,
    the trainer's position follows it, and going on from there gives the uninterrupted run's weights."""
    from glassnet.errors import TrainingInterrupted

    class InterruptAtBatch2(Callback):
        def on_batch_end(self, trainer, epoch, batch, loss):
            if epoch == 1 and batch == 2:
                trainer.request_interrupt()

    X, y = problem("softmax", n=23)
    net = gn.Network([4, 5, 3], activation="relu", output="softmax", seed=0)
    trainer = Trainer(net, "sgd", learning_rate=0.1, batch_size=4, callbacks=[InterruptAtBatch2()],
                      engine="compiled")
    trainer.begin(X, y)
    with pytest.raises(TrainingInterrupted) as caught:
        trainer.train(max_epochs=2)
    # the whole first epoch (6 batches, 23 rows) was one run of the engine
    assert (caught.value.epoch, caught.value.batch) == (1, 6)
    assert trainer.optimizer.t == 6
    trainer.interrupt_requested = False
    trainer.train(max_epochs=2)
    reference = gn.Network([4, 5, 3], activation="relu", output="softmax", seed=0)
    reference.fit(X, y, epochs=2, batch_size=4, learning_rate=0.1)
    np.testing.assert_allclose(flat(net), flat(reference), rtol=0, atol=1e-12)


XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
XOR_Y = np.array([[0], [1], [1], [0]], float)


@pytest.mark.parametrize("shuffle", [True, False])
def test_a_tiny_data_set_runs_many_epochs_per_call_with_the_numpy_paths_numbers(shuffle, monkeypatch):
    """XOR is one batch per epoch: the engine runs up to COMPILED_CHUNK_ROWS rows of epochs per call, each
    epoch with its own order from the network's generator and its own scheduled rate; weights, history,
    generator and step count come out as the numpy path's, epoch by epoch."""
    calls = []
    original = compiled.CompiledEngine.run_epochs

    def counted(self, *args, **kwargs):
        calls.append(args[3].shape[0])  # epochs in this call
        return original(self, *args, **kwargs)

    monkeypatch.setattr(compiled.CompiledEngine, "run_epochs", counted)
    results = {}
    for engine in ("numpy", "compiled"):
        net = gn.Network([2, 3, 1], activation="tanh", output="sigmoid", seed=3)
        trainer = Trainer(net, "momentum", learning_rate=0.5, batch_size=4, shuffle=shuffle,
                          schedule={"name": "exponential", "gamma": 0.999}, engine=engine)
        history = trainer.fit(XOR_X, XOR_Y, epochs=2500)
        results[engine] = (flat(net), history, net.rng.bit_generator.state, trainer.optimizer.t, trainer.epoch)
    (w_numpy, h_numpy, rng_numpy, t_numpy, e_numpy), (w_comp, h_comp, rng_comp, t_comp, e_comp) = \
        results["numpy"], results["compiled"]
    assert calls == [2048, 452]  # 8192 rows per call / 4 rows per epoch; then the rest
    np.testing.assert_allclose(w_comp, w_numpy, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_comp.loss, h_numpy.loss, rtol=1e-12, atol=1e-15)
    assert h_comp.accuracy == h_numpy.accuracy and h_comp.epochs == h_numpy.epochs == list(range(1, 2501))
    np.testing.assert_allclose(h_comp.learning_rate, [0.5 * 0.999 ** e for e in range(2500)], rtol=1e-12)
    assert rng_comp == rng_numpy and t_comp == t_numpy == 2500 and e_comp == e_numpy == 2500
    assert h_numpy.loss[-1] < 0.05  # it learned XOR (so the comparison is of a real run)


@pytest.mark.filterwarnings("ignore::glassnet.errors.TrainingWarning")
def test_many_epochs_per_call_stop_where_the_numpy_path_diverges():
    """A batch that needs the numpy path's checks in the middle of a many-epoch call: the epochs before it
    count, its own epoch goes on one batch at a time, and the error is the numpy path's."""
    errors = {}
    for engine in ("numpy", "compiled"):
        net = gn.Network([2, 3, 1], activation="identity", seed=0)
        with pytest.raises(TrainingDivergedError) as caught, np.errstate(over="ignore", invalid="ignore"):
            net.fit(XOR_X * 3, XOR_Y, epochs=500, batch_size=4, learning_rate=1.5, engine=engine)
        errors[engine] = (caught.value.epoch, caught.value.batch, flat(net), net.rng.bit_generator.state)
    assert 1 < errors["numpy"][0] < 500, "the run must diverge inside the chunk"
    assert errors["compiled"][:2] == errors["numpy"][:2]
    np.testing.assert_allclose(errors["compiled"][2], errors["numpy"][2], rtol=1e-12)
    assert errors["compiled"][3] == errors["numpy"][3]


def test_an_interruption_during_many_epochs_ends_at_an_epoch_boundary():
    """A signal handler's request is honoured after the call: the run stops between epochs, and going on
    gives the uninterrupted run's weights."""
    from glassnet.errors import TrainingInterrupted

    net = gn.Network([2, 3, 1], activation="tanh", output="sigmoid", seed=0)
    trainer = Trainer(net, "sgd", learning_rate=0.5, batch_size=4, engine="compiled")
    trainer.begin(XOR_X, XOR_Y)
    trainer.request_interrupt()
    with pytest.raises(TrainingInterrupted) as caught:
        trainer.train(max_epochs=300)
    assert caught.value.epoch == trainer.epochs_completed == 300 and trainer.progress is None
    trainer.interrupt_requested = False
    trainer.train(max_epochs=200)
    reference = gn.Network([2, 3, 1], activation="tanh", output="sigmoid", seed=0)
    reference.fit(XOR_X, XOR_Y, epochs=500, batch_size=4, learning_rate=0.5)
    np.testing.assert_allclose(flat(net), flat(reference), rtol=0, atol=1e-12)


def test_auto_compiles_where_python_takes_the_time(monkeypatch):
    """"auto" takes the compiled engine for small networks at any batch size and for larger ones at batches of
    up to AUTO_MAX_BATCH rows; numpy for large networks at large batches (where the products take the time)."""
    chosen = []
    original = compiled.choose

    def recording(engine, network, optimizer, batch_rows=None, **options):
        result = original(engine, network, optimizer, batch_rows=batch_rows, **options)
        chosen.append((network.params.n_weights, batch_rows, result is not None))
        return result

    monkeypatch.setattr(compiled, "choose", recording)
    monkeypatch.setattr(compiled, "kernels_loaded", lambda: True)  # the rule by size alone (no loading to pay)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((700, 200)), rng.integers(0, 3, 700)
    for width, batch_size in ((4, 700), (100, 8), (100, 700)):  # 215, 20,300 and 20,300 weights
        net = gn.Network([200, width, 3], activation="relu", output="softmax", seed=0)
        net.fit(X, y, epochs=1, batch_size=batch_size, learning_rate=0.01, engine="auto")
    assert [c[2] for c in chosen] == [True, True, False]
    assert chosen[0][0] <= compiled.AUTO_MAX_WEIGHTS < chosen[1][0] and chosen[2][1] > compiled.AUTO_MAX_BATCH
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("batch_size", [1, 8])
def test_without_numpys_blas_the_kernels_use_numbas_dot_with_the_same_numbers(monkeypatch, optimizer, batch_size):
    """Where numpy's own gemm is not found (another numpy build), the products go through numba's np.dot and
    SGD takes its separate update: the same weights as the numpy path either way."""
    monkeypatch.setattr(compiled, "gemm_function", lambda dtype: None)
    pair = ("relu", "softmax", "cross_entropy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fast, _ = trained("compiled", "float64", optimizer, pair, batch_size)
    reference, _ = trained("numpy", "float64", optimizer, pair, batch_size)
    np.testing.assert_allclose(flat(fast), flat(reference), rtol=0, atol=1e-12)


def test_plain_sgd_adds_the_products_into_the_weights_without_storing_their_gradient():
    """The in-place SGD update never writes the weights' gradient (its one read and one write of W), and
    still gives the numpy path's weights; the biases' gradient is written as before."""
    X, y = problem("softmax")
    net = gn.Network([4, 5, 3], activation="relu", output="softmax", seed=0)
    net.params.grad_weights[...] = 7.0
    net.fit(X, y, epochs=1, batch_size=8, learning_rate=0.05, engine="compiled")
    assert (net.params.grad_weights == 7.0).all()
    reference = gn.Network([4, 5, 3], activation="relu", output="softmax", seed=0)
    reference.fit(X, y, epochs=1, batch_size=8, learning_rate=0.05)
    np.testing.assert_allclose(flat(net), flat(reference), rtol=0, atol=1e-12)
    np.testing.assert_allclose(net.params.grad_biases, reference.params.grad_biases, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_adam_with_scikit_learns_epsilon_gives_the_numpy_paths_weights(name):
    """epsilon_mode="v" (epsilon added to sqrt(v), as scikit-learn's MLP does) is honoured by the kernels."""
    X, y = problem("softmax")
    weights = {}
    for engine in ("compiled", "numpy"):
        net = gn.Network([4, 5, 3], activation="tanh", output="softmax", seed=0)
        optimizer = gn.optimizers.get_optimizer({"name": name, "epsilon": 1e-3, "epsilon_mode": "v"})
        Trainer(net, optimizer, learning_rate=0.05, batch_size=5, engine=engine).fit(X, y, epochs=3)
        weights[engine] = flat(net)
    np.testing.assert_allclose(weights["compiled"], weights["numpy"], rtol=0, atol=1e-12)


def test_many_epochs_of_adam_separate_as_the_numpy_path_separates_from_itself():
    """Over many epochs Adam amplifies any rounding difference: the numpy path run with one weight moved by
    one ulp separates from itself about as far as the compiled engine separates from it (the README's
    "compare models by loss and accuracy, not weights" rests on this)."""
    X, y = problem("softmax", n=200, seed=3)

    def run(engine, nudge):
        net = gn.Network([4, 16, 3], activation="tanh", output="softmax", seed=0)
        if nudge:
            W = net.get_weights()
            W[0][1, 2] = np.nextafter(W[0][1, 2], 1.0)
            net.set_weights(W)
        net.fit(X, y, epochs=200, batch_size=8, optimizer="adam", learning_rate=0.05, engine=engine)
        return flat(net)

    reference = run("numpy", False)
    by_engine = np.abs(run("compiled", False) - reference).max()
    by_one_ulp = np.abs(run("numpy", True) - reference).max()
    assert by_engine > 1e-4 and by_one_ulp > 1e-4  # both separated far beyond rounding (measured 0.14, 0.019)
    assert by_engine < 100 * by_one_ulp and by_one_ulp < 100 * by_engine


def test_auto_keeps_numpy_for_runs_too_short_to_pay_for_loading_the_kernels(monkeypatch):
    """In a process that has not loaded the kernels, "auto" weighs the run's estimated numpy time against
    loading them (about 0.6 s): a short run stays numpy, a long one compiles."""
    monkeypatch.setattr(compiled, "kernels_loaded", lambda: False)
    original, chosen, epochs = compiled.choose, {}, None

    def recording(*args, **options):
        chosen[epochs] = original(*args, **options) is not None
        return None if not chosen[epochs] else original(*args, **options)

    monkeypatch.setattr(compiled, "choose", recording)
    X, y = problem("softmax", n=64)
    for epochs in (5, 6000):  # 8 steps per epoch: 40 steps (~4 ms estimated) and 48,000 (~5 s)
        net = gn.Network([4, 5, 3], activation="relu", output="softmax", seed=0)
        Trainer(net, "sgd", learning_rate=0.01, batch_size=8, engine="auto").fit(X, y, epochs=epochs)
    assert chosen == {5: False, 6000: True}
    assert compiled.estimated_numpy_seconds(net, 8, 40) < 2 * compiled.LOAD_SECONDS
    assert compiled.estimated_numpy_seconds(net, 8, 48_000) >= 2 * compiled.LOAD_SECONDS
    # the second new-user trial's run: 20-64-64-4, 300 epochs of 50 batches of 32, numpy 2.5-5.6 s there
    trial = gn.Network([20, 64, 64, 4], activation="relu", output="softmax")
    assert compiled.estimated_numpy_seconds(trial, 32, 300 * 50) >= 2 * compiled.LOAD_SECONDS


def test_one_row_sgd_on_a_wide_float32_network_stays_within_float32_rounding():
    """Batch 1, plain SGD, 784-256-128-10 in float32: each step's first product is formed while the previous
    step updates W_1 (summed in another order than BLAS's); after an epoch of 1,000 steps the weights are
    still within 1e-6 of the numpy path's (measured 2.2e-7 after 2,000)."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((1000, 784), dtype=np.float32), rng.integers(0, 10, 1000)
    weights = {}
    for engine in ("numpy", "compiled"):
        net = gn.Network([784, 256, 128, 10], activation="relu", output="softmax", seed=0, dtype="float32")
        net.fit(X, y, epochs=1, batch_size=1, learning_rate=0.01, engine=engine)
        weights[engine] = flat(net)
    np.testing.assert_allclose(weights["compiled"], weights["numpy"], rtol=0, atol=1e-6)


# ---- compiled predictions (compiled.Predictor) ----------------------------------------------------------
def forward_by_hand(net, X):
    """ŷ written out with numpy, layer by layer: a = x W + b, z = f(a), each f from its formula."""
    formulas = {"identity": lambda a: a, "sigmoid": lambda a: 1 / (1 + np.exp(-a)), "tanh": np.tanh,
                "relu": lambda a: np.maximum(a, 0), "leaky_relu": lambda a: np.where(a > 0, a, 0.01 * a),
                "softplus": lambda a: np.logaddexp(0, a),
                "softmax": lambda a: np.exp(a - a.max(1, keepdims=True)) / np.exp(a - a.max(1, keepdims=True)).sum(1,
                                                                                                   keepdims=True)}
    z = np.asarray(X, dtype=np.float64)
    for layer in net.layers:
        z = formulas[layer.activation.name](z @ layer.W.astype(np.float64) + layer.b.astype(np.float64))
    return z


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("pair", PAIRS, ids="-".join)
@pytest.mark.parametrize("n_rows", [1, 2, 3, 4, 17, 64, 65])
def test_compiled_predictions_equal_the_forward_pass_written_out(dtype, pair, n_rows):
    hidden, output, cost = pair
    net = gn.Network([4, 6, 5, 3], activation=hidden, output=output, cost=cost, seed=2, dtype=dtype)
    X = np.random.default_rng(n_rows).standard_normal((n_rows, 4)).astype(dtype)
    predictor = compiled.Predictor(net)
    assert predictor.compiled
    outputs = predictor.outputs(X)
    assert outputs.dtype == np.dtype(dtype) and outputs.shape == (n_rows, 3)
    np.testing.assert_allclose(outputs, forward_by_hand(net, X), rtol=0, atol=10 * TOLERANCE[dtype])
    if net.task == "classification":  # the decisions from the written-out outputs (no ties in random data)
        by_hand = forward_by_hand(net, X)
        expected = (by_hand[:, 0] > 0.5).astype(int) if by_hand.shape[1] == 1 else by_hand.argmax(axis=1)
        np.testing.assert_array_equal(predictor.predict(X), expected)
    else:
        np.testing.assert_array_equal(predictor.predict(X), outputs)


def test_compiled_predictions_check_inputs_as_the_network_does():
    net = gn.Network([3, 4, 2], activation="relu", output="softmax", seed=0, dtype="float32")
    predictor = compiled.Predictor(net)
    for n_rows in (2, compiled.Predictor.MAX_ROWS + 1):  # through the kernel, and through the numpy path
        bad = np.ones((n_rows, 3), dtype=np.float32)
        bad[1, 2] = np.nan
        with pytest.raises(gn.DataError, match="NaN"):
            predictor.predict_proba(bad)
    with pytest.raises(gn.ShapeError, match="first layer expects 3"):
        predictor.predict_proba(np.ones((1, 4), dtype=np.float32))
    rows = [[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]]  # a list of float64 numbers: converted as the network converts
    np.testing.assert_allclose(predictor.predict_proba(rows), forward_by_hand(net, rows), atol=1e-6)
    wide = np.arange(12.0).reshape(2, 6)[:, ::2] / 10  # not contiguous
    np.testing.assert_allclose(predictor.predict_proba(wide), forward_by_hand(net, wide), atol=1e-6)
    regression = gn.Network([3, 2], output="identity", cost="quadratic")
    with pytest.raises(ConfigError, match="predict_proba needs a sigmoid or softmax"):
        compiled.Predictor(regression).predict_proba(np.ones((1, 3)))


def test_a_predictor_reads_the_networks_current_weights():
    net = gn.Network([2, 3, 2], activation="tanh", output="softmax", seed=0)
    predictor = compiled.Predictor(net)
    X = np.array([[0.3, -0.7]])
    before = predictor.predict_proba(X)
    net.fit(np.random.default_rng(0).standard_normal((16, 2)), np.arange(16) % 2, epochs=3, learning_rate=0.5)
    after = predictor.predict_proba(X)
    assert np.abs(after - before).max() > 1e-3
    np.testing.assert_allclose(after, forward_by_hand(net, X), rtol=0, atol=1e-12)


def test_a_predictor_without_numba_or_for_an_unsupported_network_warns_and_uses_numpy(monkeypatch):
    net = gn.Network([2, 3, 2], activation="tanh", output="softmax", seed=0)
    X = np.array([[0.3, -0.7], [1.0, 2.0]])
    monkeypatch.setattr(compiled, "load_kernels", lambda: None)
    with pytest.warns(RuntimeWarning, match="predicting with the numpy engine: numba is not installed"):
        predictor = compiled.Predictor(net)
    assert not predictor.compiled
    np.testing.assert_allclose(predictor.predict_proba(X), forward_by_hand(net, X), rtol=0, atol=1e-12)


@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
def test_float32_adam_is_as_close_to_the_float64_run_compiled_as_through_numpy(optimizer):
    """Adam divides by √v, so float32 rounding moves weights whose gradients are near 0 by up to the learning
    rate: the compiled engine's float32 weights must be no further from numpy's float64 run than numpy's own
    float32 weights are (the README's figures: 8.4e-5 and 1.3e-4 on digits25, tanh, batch 32)."""
    from glassnet.data import load

    data = load("digits25")
    X, y = data.X[:640] / 16.0, data.y[:640]

    def weights(engine, dtype):
        net = gn.Network([625, 20, 20, 10], activation="tanh", output="softmax", seed=0, dtype=dtype)
        net.fit(X.astype(dtype), y, epochs=1, batch_size=32, optimizer=optimizer, learning_rate=0.01, engine=engine)
        return np.concatenate([w.astype(np.float64).ravel() for w in net.get_weights()])

    reference = weights("numpy", "float64")
    numpy_error = np.abs(weights("numpy", "float32") - reference).max()
    compiled_error = np.abs(weights("compiled", "float32") - reference).max()
    assert compiled_error <= 3 * numpy_error + 1e-6, (compiled_error, numpy_error)


def test_a_predictor_given_a_saved_model_says_how_to_use_one(tmp_path):
    net = gn.Network([2, 3, 2], activation="tanh", output="softmax", seed=0)
    gn.save(net, str(tmp_path / "m.npz"))
    model = gn.load(str(tmp_path / "m.npz"))
    with pytest.raises(ConfigError, match=r"Predictor\(model.network\) and give it model.prepare\(X\)"):
        compiled.Predictor(model)
    X = np.array([[0.3, -0.7]])
    np.testing.assert_allclose(compiled.Predictor(model.network).predict_proba(model.prepare(X)),
                               forward_by_hand(net, X), rtol=0, atol=1e-12)


def test_a_fallback_warning_points_at_the_users_line():
    """glassnet's warnings name the caller's file and line, however deep in the library they are raised."""
    net = gn.Network([2, 3, 2], output="softmax", seed=0)
    X, y = np.random.default_rng(0).random((20, 2)), np.arange(20) % 2
    with pytest.warns(RuntimeWarning, match="does not support clip_norm") as record:
        net.fit(X, y, epochs=1, clip_norm=1.0, engine="compiled")
    assert record[0].filename == __file__
