"""The compiled engine (learning floor; the ``fast`` extra, numba): runs of training steps of a Dense stack in machine code.

The numpy path stays the reference and the glass box (trace, playground) always uses it. This engine runs
the same arithmetic, batch after batch without returning to Python, on the network's own flat weight and
bias arrays and the optimizer's own state arrays (so checkpoints, ``get_weights`` and a later numpy epoch
see exactly what it did). The two agree to rounding: with SGD, momentum and Nesterov 1e-6 in float32 and
1e-12 in float64 after an epoch of a few thousand steps (in float32 the gap grows with the steps, as the
numpy path's own float32 rounding does); Adam and AdamW divide by √v, which turns rounding-sized differences in
gradients near 0 into steps of up to the learning rate, so there the two agree only as well as the numpy path
agrees with itself at another precision (README, "The compiled engine").

Supported: ``Dense`` layers with the built-in activations, the built-in costs and optimizers, L2, any batch
size and schedule, shuffled or not. Not supported (the trainer falls back to numpy with a one-line warning
when the compiled engine was asked for): sample weights, ``clip_norm``, ``clip_value``, the L1 penalty,
another device, subclassed layers, activations, costs or optimizers. A batch whose loss is not finite or whose gradients
look too large is handed back before its update, and the numpy path re-runs it with its usual checks.

The products go to numpy's own OpenBLAS (its cblas gemm, found by :mod:`glassnet.blas`; numba's ``np.dot``
would call scipy's, which ran the skinny products of small batches at half the speed here), or to ``np.dot``
where numpy ships no OpenBLAS. Two shortcuts, same arithmetic to rounding: plain SGD adds each product into
the weights (W += −lr x.T delta in one BLAS call; for one row, entry by entry), so the weights' gradient is
not stored (after such a run the store's ``grad_weights`` are those of an earlier step); and data sets of a
few batches run many epochs per call (see ``Trainer``).

numba is imported only when the engine is first used; compiled kernels are cached on disk (``cache=True``),
so only the first run on a machine pays the compilation (seconds per dtype).
"""
from __future__ import annotations

import sys

import numpy as np

from .activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Softplus, Tanh
from .blas import gemm_function
from .costs import BinaryCrossEntropy, CrossEntropy, Quadratic
from .errors import ConfigError, warn
from .layers import Dense
from .optimizers import SGD, Adam, AdamW, Momentum, Nesterov

ENGINES = ("auto", "numpy", "compiled")

# codes shared with compiled_kernels (kept here too so this module reads without numba installed)
_ACTIVATION_CODES = {Identity: 0, Sigmoid: 1, Tanh: 2, ReLU: 3, LeakyReLU: 4, Softplus: 5, Softmax: 6}
_COST_CODES = {Quadratic: 0, BinaryCrossEntropy: 1, CrossEntropy: 2}
# optimizer -> (code, names of its state arrays: the first two are what the kernel updates)
_OPTIMIZERS = {SGD: (0, ("scratch",)), Momentum: (1, ("velocity", "scratch")),
               Nesterov: (2, ("velocity", "scratch")), Adam: (3, ("m", "v", "scratch")),
               AdamW: (4, ("m", "v", "scratch"))}
# without an explode threshold the gradients must still be proven finite: anything below this is
_NO_THRESHOLD = 1e30


def load_kernels():
    """The numba kernels module, or None when numba is not installed."""
    try:
        from . import compiled_kernels
    except ImportError:
        return None
    return compiled_kernels


def unsupported_network(network) -> str | None:
    """Why the compiled forward pass cannot run ``network`` (a short phrase), or None when it can."""
    if getattr(network, "device", "cpu") != "cpu":
        return f"device {network.device!r}"
    for index, layer in enumerate(network.layers, start=1):
        if type(layer) is not Dense:
            return f"layer {index} is a {type(layer).__name__}"
        if type(layer.activation) not in _ACTIVATION_CODES:
            return f"layer {index}'s activation {layer.activation!r}"
    return None


def unsupported(network, optimizer, sample_weight=None, clip_norm=None, clip_value=None) -> str | None:
    """Why the compiled engine cannot run this training (a short phrase), or None when it can."""
    reason = unsupported_network(network)
    if reason is not None:
        return reason
    if type(network.cost) not in _COST_CODES:
        return f"cost {network.cost!r}"
    if network.cost.needs_probabilities and not network.cost.fuses_with(network.output_activation):
        # sigmoid + cross-entropy, softmax + BCE: exact at saturation only in the numpy path's forms in a_L
        return f"the unmatched pair {network.output_activation.name} + {network.cost.name}"
    if type(optimizer) not in _OPTIMIZERS:
        return f"optimizer {optimizer!r}"
    if getattr(network, "l1", 0.0):  # the kernels have no L1 term: they would train without the penalty
        return f"the L1 penalty (l1={network.l1:g})"
    for name, value in (("sample weights", sample_weight), ("clip_norm", clip_norm), ("clip_value", clip_value)):
        if value is not None:
            return name
    return None


#: "auto" takes the compiled engine for networks of at most this many weights at any batch size ...
AUTO_MAX_WEIGHTS = 16_384
#: ... and for larger networks at batches of at most this many rows
AUTO_MAX_BATCH = 512


#: loading numba and the cached kernels, once per process (measured 0.63 s: 0.24 s numba, 0.39 s the kernels)
LOAD_SECONDS = 0.6


def kernels_loaded() -> bool:
    """Whether this process has already paid for loading the kernels."""
    return "glassnet.compiled_kernels" in sys.modules


def estimated_numpy_seconds(network, batch_rows: int, steps: int) -> float:
    """A rough time for ``steps`` numpy-path steps: 100 µs of Python and small numpy calls per step (95-105
    µs measured on 2-3-1 and 2-16-16-2) plus 6 FLOPs per weight and row at 50 GFLOP/s (forward, two backward
    products)."""
    return steps * (100e-6 + 6.0 * network.params.n_weights * batch_rows / 50e9)


def worth_compiling(network, batch_rows: int | None, planned_steps: int | None = None) -> bool:
    """Whether "auto" picks the compiled engine: where it measured faster than the numpy path, for a run long
    enough to pay for loading the kernels (an estimated numpy time of at least 2 x LOAD_SECONDS, unless this
    process has loaded them already). Here (benchmarks/results), compiled / numpy for 784-256-128-10 float32
    was 5.3, 1.9, 1.4, 1.1 at batch 1, 10, 32, 128 on one CPU and 2.3, 1.2 at batch 10, 128 on two, but
    0.96-1.00 at batch 2048, where the matrix products take the time either way; small networks (2-16-16-2)
    trained 8x faster compiled at any batch. A new user's 40-epoch command-line runs of a few tenths of a
    second were 3-10x slower compiled, all of it the loading; a second user's 300-epoch run of 20-64-64-4 (numpy
    2.5-5.6 s, compiled 1.6-1.9x faster) stayed numpy under a first estimate of 60 µs a step, now 100."""
    if planned_steps is not None and batch_rows is not None and not kernels_loaded() and \
            estimated_numpy_seconds(network, batch_rows, planned_steps) < 2 * LOAD_SECONDS:
        return False
    if network.params.n_weights <= AUTO_MAX_WEIGHTS:
        return True
    return batch_rows is not None and batch_rows <= AUTO_MAX_BATCH


def choose(engine: str, network, optimizer, batch_rows: int | None = None, planned_steps: int | None = None,
           **options):
    """A :class:`CompiledEngine` when ``engine`` ("auto", "numpy", "compiled") asks for one and it can run,
    else None (the numpy path). Asked for explicitly ("compiled") and unable, it says why in a warning;
    "auto" also keeps numpy where compiling would not pay (see :func:`worth_compiling`)."""
    if engine == "numpy" or (engine == "auto" and not worth_compiling(network, batch_rows, planned_steps)):
        return None
    kernels = load_kernels()
    reason = "numba is not installed (pip install 'glassnet[fast]')" if kernels is None else \
        unsupported(network, optimizer, **options)
    if reason is None:
        return CompiledEngine(network, optimizer, kernels)
    if engine == "compiled":
        warn(f"glassnet: training with the numpy engine: the compiled engine does not support {reason}"
             if kernels is not None else f"glassnet: training with the numpy engine: {reason}")
    return None


class CompiledEngine:
    """Runs batches of one network and optimizer compiled; built by :func:`choose`."""

    def __init__(self, network, optimizer, kernels):
        self.network, self.optimizer, self.kernels = network, optimizer, kernels
        layers = network.layers
        self.sizes = np.array(network.sizes, dtype=np.int64)
        self.codes = np.array([_ACTIVATION_CODES[type(layer.activation)] for layer in layers], dtype=np.int64)
        self.alphas = np.array([getattr(layer.activation, "alpha", 0.0) for layer in layers], dtype=np.float64)
        self.cost_code = _COST_CODES[type(network.cost)]
        self.fused = bool(network.cost.fuses_with(network.output_activation))
        self.tiny = float(np.finfo(network.dtype).tiny)
        self.no_labels = np.zeros(0, dtype=np.int64)
        self.blas = gemm_function(network.dtype)  # numpy's own gemm, or None: numba's np.dot
        self.workspace_rows = -1
        self.optimizer_cache = (None, None)

    def _workspace(self, batch_size: int, dtype) -> None:
        """Work arrays for batches of up to ``batch_size`` rows, kept between calls."""
        if self.workspace_rows == batch_size:
            return
        width = int(self.sizes[1:].sum())
        self.work = [np.zeros(batch_size * width, dtype=dtype) for _ in range(3)]  # a, z, delta per layer
        self.x_rows = np.zeros((batch_size, int(self.sizes[0])), dtype=dtype)
        self.y_rows = np.zeros((batch_size, int(self.sizes[-1])), dtype=dtype)
        self.label_rows = np.zeros(batch_size, dtype=np.int64)
        self.workspace_rows = batch_size

    def _optimizer_arrays(self, groups) -> tuple:
        """(code, hyperparameters, [(first, second) state arrays per group]) of the optimizer, whose state
        the engine updates in place; ``ensure_state`` creates it (zero) as the optimizer's first step would."""
        optimizer = self.optimizer
        code, names = _OPTIMIZERS[type(optimizer)]
        states = optimizer.ensure_state(groups)
        if states is self.optimizer_cache[0]:
            return self.optimizer_cache[1]
        empty = groups[0].values[:0]
        pairs = []
        for state in states:
            kept = [state[name] for name in names if name != "scratch"]
            pairs.append(tuple((kept + [empty, empty])[:2]))
        beta_or_momentum = getattr(optimizer, "beta_1", getattr(optimizer, "momentum", 0.0))
        hyper = np.array([beta_or_momentum, getattr(optimizer, "beta_2", 0.0), getattr(optimizer, "epsilon", 0.0),
                          getattr(optimizer, "weight_decay", 0.0),
                          float(getattr(optimizer, "epsilon_mode", "v_hat") == "v_hat")], dtype=np.float64)
        if type(optimizer) is Momentum and optimizer.nesterov:
            code = _OPTIMIZERS[Nesterov][0]
        self.optimizer_cache = (states, (code, hyper, pairs))
        return self.optimizer_cache[1]

    def _arguments(self, batch_size: int) -> tuple:
        """The parameters, optimizer state and work arrays every kernel call takes, in its order."""
        network = self.network
        weights, biases = network.params.groups
        self._workspace(batch_size, weights.values.dtype)
        code, hyper, (state_w, state_b) = self._optimizer_arrays([weights, biases])
        return ((weights.values, biases.values, weights.grads, biases.grads, self.sizes, self.codes, self.alphas,
                 self.cost_code, self.fused, float(network.l2), self.tiny, code, hyper, self.optimizer.t),
                (state_w, state_b), (*self.work, self.x_rows, self.y_rows, self.label_rows))

    def run_epochs(self, x, y, labels, orders, batch_size: int, learning_rates, explode_threshold: float | None):
        """Run whole epochs, epoch e on the rows in ``orders[e]`` at ``learning_rates[e]`` (arrays of one row
        per epoch). Returns (losses, corrects, epochs_done, batches_done, needs_check): per-batch losses and
        correct counts ``(n_epochs, n_batches)``, how many epochs ended, how many batches of the next one ran,
        and whether its next batch must go through the numpy path."""
        n_batches = -(-x.shape[0] // batch_size)
        head, states, work = self._arguments(batch_size)
        limit = _NO_THRESHOLD if explode_threshold is None else explode_threshold
        losses = np.zeros((orders.shape[0], n_batches))
        corrects = np.zeros((orders.shape[0], n_batches), dtype=np.int64)
        epochs, batches, status = self.kernels.run_epochs(
            self.blas, x, y, self.no_labels if labels is None else labels, orders, batch_size, n_batches, *head,
            learning_rates, *states, float(limit) ** 2, *work, losses, corrects)
        self.optimizer.t += epochs * n_batches + batches
        return losses, corrects, epochs, batches, status == self.kernels.NEEDS_CHECK

    def run(self, x, y, labels, order, batch_size: int, first_batch: int, n_batches: int, learning_rate: float,
            explode_threshold: float | None):
        """Run batches ``first_batch`` .. ``first_batch + n_batches − 1`` (0-based) of an epoch whose rows
        come in ``order``. Returns (losses, corrects, done, needs_check): the loss and correct count of
        each batch done, how many were done, and whether the next one must go through the numpy path."""
        head, states, work = self._arguments(batch_size)
        limit = _NO_THRESHOLD if explode_threshold is None else explode_threshold
        losses, corrects = np.zeros(n_batches), np.zeros(n_batches, dtype=np.int64)
        kernels = self.kernels
        done, status = kernels.run_steps(
            self.blas, x, y, self.no_labels if labels is None else labels, order, batch_size, first_batch, n_batches,
            *head, float(learning_rate), *states, float(limit) ** 2, *work, losses, corrects)
        self.optimizer.t += done
        return losses[:done], corrects[:done], done, status == kernels.NEEDS_CHECK


class Predictor:
    """A network's predictions through the compiled forward pass: ŷ as :meth:`Network.outputs` computes it,
    to rounding (1e-6 in float32, 1e-12 in float64), with one call into machine code instead of a dozen
    numpy calls. It pays where those calls are most of the time: one row of 784-256-128-10 float32 took
    44 µs through ``Network.predict_proba`` and 24 µs here, onnxruntime 32 µs (benchmarks/results/predict_speed.md).

    ``predictor = Predictor(network)`` loads the kernels (about 0.3 s a process; the first call on a machine
    compiles them for its dtype, 6 s here, cached on disk by numba); every call then reads
    the network's current weights, so further training or ``set_weights`` is seen. Inputs are checked as
    :meth:`Network.check_x` does (a NaN or a wrong width is the same error). Each call allocates its own work
    arrays, so threads may share one predictor. Where numba is missing or the network has a layer or
    activation the kernels lack, it says so once in a warning and predicts through the network's numpy path.

    For a saved model, standardise through the model first: ``predictor.predict_proba(model.prepare(X))``.
    """

    #: more rows than this go through the network's numpy path, faster there (784-256-128-10 float32, µs
    #: compiled / numpy: 1 row 26 / 45, 10 rows 136 / 146, 32 rows 231 / 239, 100 rows 630 / 607)
    MAX_ROWS = 64

    def __init__(self, network):
        if not hasattr(network, "layers"):
            raise ConfigError(f"Predictor takes a Network, got {type(network).__name__}; for a saved model use "
                              f"Predictor(model.network) and give it model.prepare(X) (the model's own "
                              f"standardisation and column order)")
        self.network = network
        kernels = load_kernels()
        reason = "numba is not installed (pip install 'glassnet[fast]')" if kernels is None else \
            unsupported_network(network)
        if reason is not None:
            warn(f"glassnet: predicting with the numpy engine: {reason}")
            kernels = None
        self.kernels = kernels
        self.dtype = np.dtype(network.dtype)
        self.sizes = np.array(network.sizes, dtype=np.int64)
        self.codes = np.array([_ACTIVATION_CODES.get(type(layer.activation), -1) for layer in network.layers],
                              dtype=np.int64)
        self.alphas = np.array([getattr(layer.activation, "alpha", 0.0) for layer in network.layers])
        self.width = int(self.sizes[1:].sum())
        self.blas = gemm_function(self.dtype)

    @property
    def compiled(self) -> bool:
        """Whether predictions run compiled (False: through the network's numpy path, see the warning)."""
        return self.kernels is not None

    def outputs(self, x) -> np.ndarray:
        """ŷ ``(n_samples, n_out)`` for inputs ``x: (n_samples, n_in)``, a new numpy array."""
        network, n_in = self.network, int(self.sizes[0])
        if self.kernels is None:
            return np.asarray(network.outputs(x))
        if not (type(x) is np.ndarray and x.dtype == self.dtype and x.ndim == 2 and x.shape[1] == n_in
                and x.shape[0] > 0 and x.flags.c_contiguous):  # else the network's full check and conversion
            x = np.ascontiguousarray(network.check_x(x))
        n_rows = x.shape[0]
        if n_rows > self.MAX_ROWS:  # through the network's own check (the test above is of types, not values)
            return np.asarray(network.outputs(x))
        weights, biases = (group.values for group in network.params.groups)
        out = np.empty((n_rows, int(self.sizes[-1])), dtype=self.dtype)
        A, Z = np.empty(n_rows * self.width, self.dtype), np.empty(n_rows * self.width, self.dtype)
        # up to ROW_BY_ROW rows the kernels take np.dot's gemv, and leaving out the BLAS function saves ~3 µs
        blas = None if n_rows <= self.kernels.ROW_BY_ROW else self.blas
        if self.kernels.predict(blas, x, weights, biases, self.sizes, self.codes, self.alphas, A, Z, out):
            return out
        return np.asarray(network.outputs(x))  # a NaN or an infinity: the network's own check names it

    def predict_proba(self, x) -> np.ndarray:
        """Class probabilities ``(n_samples, n_out)``, as :meth:`Network.predict_proba`."""
        if self.network.task != "classification":
            return self.network.predict_proba(x)  # refuses, naming the output activation
        return self.outputs(x)

    def predict(self, x) -> np.ndarray:
        """Class indices for classification, the outputs for regression, as :meth:`Network.predict`."""
        outputs = self.outputs(x)
        return self.network.decide(outputs) if self.network.task == "classification" else outputs
