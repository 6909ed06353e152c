"""A feedforward network (model floor): forward over the layers, backward over them in reverse.

    x -> [Dense 1] -> z_1 -> [Dense 2] -> ... -> [Dense L] -> ŷ -> cost C(ŷ, y)

Backpropagation, exactly as the chain rule (seed 001's order: from the output back):

    delta_L = dC/dŷ ⊙ f'(a_L)                (or the fused (ŷ − y)/n for matched pairs)
    delta_l = (delta_{l+1} @ W_{l+1}.T) ⊙ f'(a_l)
    dC/dW_l = z_{l−1}.T @ delta_l,   dC/db_l = Σ_samples delta_l
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .activations import LeakyReLU, ReLU, Sigmoid, Softmax, get_activation
from .backend import (count_true, engine_namespace, namespace_for, namespace_of, numpy_like, sum_of_squares, to_numpy,
                      total)
from .blas import axpy
from .constraints import check
from .costs import Cost, default_cost_for, get_cost
from .document import Document
from .errors import ConfigError, NotFittedError
from .layers import Dense
from .params import ParameterStore, WorkArrays, Workspace
from .validation import as_matrix, as_sample_weight, as_targets


def _auto_weight_init(activation) -> str:
    """He initialisation for the ReLU family, Glorot for the rest."""
    return "he_uniform" if isinstance(activation, (ReLU, LeakyReLU)) else "glorot_uniform"


class Network:
    """A stack of :class:`Dense` layers with a cost.

    ``Network([625, 20, 20, 10], activation="sigmoid", output="softmax", seed=0)`` builds the seeds'
    625-20-20-10 classifier; ``Network([Dense(2, 3, "tanh"), Dense(3, 1, "sigmoid")])`` builds one from
    explicit layers. ``x: (n_samples, n_in) -> ŷ: (n_samples, n_out)``.

    Parameters
    ----------
    layers : sequence of int or sequence of Dense
        Layer sizes, input first (``[2, 3, 1]``), or the layers themselves.
    activation : str, dict or Activation
        Hidden-layer activation (name, config dict or instance); used with sizes only.
    output : str, dict or Activation, optional
        Output activation; defaults to ``activation``.
    cost : str or Cost, optional
        Defaults to the one that matches the output: softmax -> cross_entropy, sigmoid ->
        binary_cross_entropy, otherwise quadratic.
    weight_init, bias_init : str, float or callable
        Initializer names, numbers (a constant) or callables; ``"auto"`` is He for ReLU-family layers and
        Glorot otherwise.
    l2 : float
        L2 penalty on the weights (not biases); the objective becomes C + (l2/2) Σ_l ‖W_l‖².
    l1 : float
        L1 penalty on the weights (not biases); adds l1 Σ_l Σ |W_l| to the objective.
    seed : int, optional
        Seed of the network's ``numpy.random.Generator`` (initial weights and shuffling).
    dtype : {"float64", "float32"}
        For weights, data and every intermediate value; "float64" by default here, while the command line
        trains in float32 by default (faster; about 7 significant digits).
    """

    def __init__(self, layers: Sequence, activation="sigmoid", output=None, cost=None, weight_init="auto",
                 bias_init="zeros", l2: float = 0.0, seed: int | None = None, dtype="float64",
                 device: str = "cpu", l1: float = 0.0):
        self.dtype = np.dtype(dtype) if not isinstance(dtype, np.dtype) else dtype
        if self.dtype not in (np.float32, np.float64):
            raise ConfigError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        self.seed = check("seed", seed)
        self.rng = np.random.default_rng(seed)
        self.layers = self._build_layers(layers, activation, output, weight_init, bias_init)
        self.cost: Cost = default_cost_for(self.output_activation) if cost is None else get_cost(cost)
        self.cost.check_output(self.output_activation)
        self.l2 = check("l2", l2)
        self.l1 = check("l1", l1)
        self.device = "cpu"
        self._build_store(np)
        for layer in self.layers:
            if not layer.parameters_set:  # layers whose weights the user did not set start from the seed
                layer.reset_parameters(self.rng)
        if device != "cpu":
            self.to(device)

    # ---- construction ------------------------------------------------------------------------------
    def _build_layers(self, layers, activation, output, weight_init, bias_init) -> list[Dense]:
        if isinstance(layers, (str, bytes)) or not hasattr(layers, "__len__") or len(layers) == 0:
            raise ConfigError(f"layers must be a non-empty list of sizes or Dense layers, got {layers!r}")
        if all(isinstance(layer, Dense) for layer in layers):
            return self._chain(list(layers))
        if len(layers) < 2:
            raise ConfigError(f"layer sizes need an input and at least one layer, e.g. [2, 3, 1]; got {list(layers)!r}")
        hidden = get_activation(activation)
        out = hidden if output is None else get_activation(output)
        built = []
        for index, (n_in, n_out) in enumerate(zip(layers[:-1], layers[1:])):
            act = out if index == len(layers) - 2 else hidden
            w_init = _auto_weight_init(act) if weight_init == "auto" else weight_init
            built.append(Dense(n_in, n_out, act, w_init, bias_init, self.dtype))
        return built

    def _chain(self, built: list[Dense]) -> list[Dense]:
        """Explicit layers: their widths must chain and their dtype must be the network's."""
        for below, above in zip(built, built[1:]):
            if below.n_out != above.n_in:
                raise ConfigError(f"layer widths do not chain: a layer with {below.n_out} outputs feeds "
                                  f"a layer with {above.n_in} inputs")
        for layer in built:
            if layer.dtype != self.dtype:
                raise ConfigError(f"layer {layer!r} has dtype {layer.dtype}, the network {self.dtype}")
        return built

    def _build_store(self, xp) -> None:
        """One :class:`ParameterStore` for every layer; each layer keeps views of its slices."""
        self.params = ParameterStore.create([(layer.n_in, layer.n_out) for layer in self.layers], self.dtype, xp)
        for index, layer in enumerate(self.layers):
            layer.attach(self.params.layer(index))

    def __setstate__(self, state: dict) -> None:
        """Unpickling (scikit-learn's clone and joblib workers pickle estimators): pickle copies each view
        apart from the array it viewed, so the store is built anew and each layer's values carried into it."""
        self.__dict__.update(state)
        self._build_store(self.params.xp)

    def reset_parameters(self, seed: int | None = None) -> None:
        """Draw fresh initial weights (from ``seed`` if given, else from the network's generator)."""
        if seed is not None:
            self.seed, self.rng = check("seed", seed), np.random.default_rng(seed)
        for layer in self.layers:
            layer.reset_parameters(self.rng)

    def to(self, device: str) -> "Network":
        """Move the weights to ``device`` ("cpu" or "cuda"): a new parameter store on that device."""
        self.to_namespace(namespace_for(device))
        self.device = device
        return self

    def to_namespace(self, xp) -> "Network":
        """Move the weights into array namespace ``xp``: numpy, CuPy (the path ``to("cuda")`` takes) or
        any module of the Python array API standard, e.g. ``array_api_strict``, which the tests use to show
        the engine calls nothing outside the standard. The engine then runs in that namespace: inputs are
        converted at the door, outputs come back in it (see :mod:`glassnet.backend`)."""
        xp = engine_namespace(xp)
        if xp is not self.params.xp:
            self._build_store(xp)
        for layer in self.layers:
            layer.clear()
        self.device = "cpu" if xp is np else xp.__name__
        return self

    @property
    def xp(self):
        """The array namespace of the network's device (numpy on the CPU)."""
        return self.params.xp

    # ---- sizes -------------------------------------------------------------------------------------
    @property
    def output_activation(self):
        """The last layer's activation (it decides the task and the matching cost)."""
        return self.layers[-1].activation

    @property
    def sizes(self) -> list[int]:
        """Layer widths, input first: ``[625, 20, 20, 10]`` for the seeds' network."""
        return [self.layers[0].n_in] + [layer.n_out for layer in self.layers]

    @property
    def n_inputs(self) -> int:
        """Features per sample: the first layer's n_in."""
        return self.layers[0].n_in

    @property
    def n_outputs(self) -> int:
        """Output units: the last layer's n_out."""
        return self.layers[-1].n_out

    @property
    def n_weights(self) -> int:
        """Σ_l n_in · n_out over the layers: 625·20 + 20·20 + 20·10 = 13,100 for 625-20-20-10."""
        return sum(layer.n_weights for layer in self.layers)

    @property
    def n_biases(self) -> int:
        """Σ_l n_out over the layers: 20 + 20 + 10 = 50 for 625-20-20-10."""
        return sum(layer.n_biases for layer in self.layers)

    @property
    def n_parameters(self) -> int:
        """n_weights + n_biases: the number of dials."""
        return self.n_weights + self.n_biases

    @property
    def task(self) -> str:
        """"classification" for a sigmoid or softmax output, else "regression"."""
        return "classification" if isinstance(self.output_activation, (Sigmoid, Softmax)) else "regression"

    # ---- forward and backward: the one public step contract ----------------------------------------
    def forward(self, x, workspace: Workspace | None = None, checked: bool = False):
        """ŷ for a batch, caching every layer's x, a and z. ``x: (n_samples, n_in) -> (n_samples, n_out)``.

        ``checked=True``: ``x`` already passed :meth:`check_x` (the trainer checks a whole data set once).
        """
        if not checked:
            x = self.check_x(x)
        for layer in self.layers:
            x = layer.forward(x, workspace)
        return x

    def loss_and_grad(self, x, y, sample_weight=None, workspace: Workspace | None = None,
                      checked: bool = False) -> float:
        """Forward, cost and backward on a batch: returns the cost C (plus the L2 and L1 penalties) and leaves
        dC/dW and dC/db of every layer in the parameter store's gradients (``self.params.grad_weights``,
        ``grad_biases``; each layer's ``grad_W``/``grad_b`` are views of them).

        This is the one step every front door goes through: the trainer, L-BFGS in the scikit-learn
        wrapper, :func:`~glassnet.gradcheck.gradient_check`, the trace and the playground.

        ``x: (n_samples, n_in)``, ``y: (n_samples, n_out)`` or class labels ``(n_samples,)``,
        ``sample_weight: (n_samples,)`` makes the cost the weighted mean Σ w c / Σ w. With a
        :class:`~glassnet.params.Workspace`, work arrays are kept between calls (no allocation per step).
        ``checked=True``: x, y and the weights already passed :meth:`check_xy` / :func:`as_sample_weight`.
        """
        if not checked:
            x, y = self.check_xy(x, y)
            if sample_weight is not None:
                sample_weight = as_sample_weight(sample_weight, x.shape[0], self.dtype, self.xp)
        self.forward(x, workspace, checked=True)
        loss = self.cost_of_last_forward(y, sample_weight)
        self._backpropagate(y, sample_weight, workspace)
        return loss

    @property
    def uses_fused_delta(self) -> bool:
        """True for the matched output/cost pairs, whose output delta is the fused (ŷ − y)/n."""
        return self.cost.fuses_with(self.output_activation)

    @property
    def last_outputs(self):
        """ŷ of the last :meth:`forward` (None before one)."""
        return self.layers[-1].z

    def cost_of_last_forward(self, y, sample_weight=None) -> float:
        """The cost of the last forward pass against targets ``y`` (plus the L2 and L1 penalties).

        With ``sample_weight: (n_samples,)`` the mean over samples is the weighted mean Σ w c / Σ w.
        """
        last = self.layers[-1]
        return self._cost_of(last.a, last.z, y, sample_weight) + self.penalty()

    def _cost_of(self, a, z, y, sample_weight=None) -> float:
        """The cost (without L2) of output weighted sums ``a`` and activations ``z`` against ``y``."""
        if sample_weight is None:
            return self.cost.output_total(self.output_activation, a, z, y) / y.shape[0]
        per = self.cost.output_per_sample(self.output_activation, a, z, y)
        return float(total(per * sample_weight) / total(sample_weight))

    def penalty(self) -> float:
        """The regularisation added to the cost: (l2/2) Σ‖W‖² + l1 Σ|W| over every weight (not biases)."""
        return self.l2_penalty() + self.l1_penalty()

    def l1_penalty(self) -> float:
        """l1 Σ_l Σ |W_l| — zero unless ``l1`` is set; its gradient l1 · sign(W) is added in the backward pass."""
        if not self.l1:
            return 0.0
        return self.l1 * sum(float(total(self.xp.abs(group.values))) for group in self.params.groups if group.decay)

    def l2_penalty(self) -> float:
        """(l2/2) Σ_l ‖W_l‖² — zero unless ``l2`` is set. Biases are not penalised."""
        if not self.l2:
            return 0.0
        return 0.5 * self.l2 * sum(sum_of_squares(group.values) for group in self.params.groups if group.decay)

    def _backpropagate(self, y, sample_weight=None, workspace: Workspace | None = None) -> None:
        """Fill every layer's delta and the store's gradients from the last forward pass and targets ``y``."""
        last, deep = self.layers[-1], len(self.layers) > 1
        # weighted mean: each sample's share of dC/dŷ is n·w_i/Σw times its share in the plain mean
        scale = None if sample_weight is None else (sample_weight * (y.shape[0] / total(sample_weight)))[:, None]
        # delta_L = dC/da_L: (ŷ − y)/n for a matched pair, otherwise dC/dŷ ⊙ f'(a_L) or the pair's own
        # form in a_L (see costs.py for the derivations)
        work = None if workspace is None else workspace.bundle(self, y.shape[0], self._new_work)
        delta = self.cost.output_delta(last.activation, last.a, last.z, y, out=None if work is None else work.delta)
        if scale is not None:
            delta *= scale
        grad_below = last.backward(delta, need_input_grad=deep, workspace=workspace)
        for index in range(len(self.layers) - 2, -1, -1):
            # delta_l = (delta_{l+1} @ W_{l+1}.T) ⊙ f'(a_l); the first layer needs no dC/dx
            grad_below = self.layers[index].backward_from_output_grad(grad_below, need_input_grad=index > 0,
                                                                      workspace=workspace)
        if self.l2:
            # d/dW of (l2/2)‖W‖² = l2 · W, added to the weights' gradients (one pass over the flat store)
            for group in self.params.groups:
                if group.decay:
                    scratch = None if work is None else work.l2.get(group.name)
                    if work is not None and scratch is None:
                        scratch = work.l2[group.name] = self.xp.empty_like(group.values)
                    axpy(self.l2, group.values, group.grads, scratch)
        if self.l1:
            # d/dW of l1 Σ|W| = l1 · sign(W) (the subgradient 0 at W = 0), on the decayed groups (weights)
            for group in self.params.groups:
                if group.decay:
                    grads = group.grads
                    grads += self.l1 * self.xp.sign(group.values)

    def _new_work(self, n_rows: int) -> WorkArrays:
        """The step's own work arrays for batches of ``n_rows``: the output delta, and a scratch array per
        decayed group for the L2 term (made at first use)."""
        return WorkArrays(delta=self.xp.empty((n_rows, self.n_outputs), dtype=self.dtype), l2={})

    def loss(self, x, y) -> float:
        """The cost C on (x, y), plus the L2 and L1 penalties if set."""
        x, y = self.check_xy(x, y)
        self.forward(x, checked=True)
        return self.cost_of_last_forward(y)

    def gradients(self, x, y) -> list[tuple]:
        """Forward, then backpropagate: ``[(dC/dW_1, dC/db_1), ...]`` (views into the parameter store)."""
        self.loss_and_grad(x, y)
        return [(layer.grad_W, layer.grad_b) for layer in self.layers]

    def backward(self, y) -> None:
        """Backpropagate from the last :meth:`forward` against targets ``y``; fills each layer's gradients."""
        if self.layers[-1].z is None:
            raise NotFittedError("backward needs a forward pass first: call forward(x)")
        n_samples = self.layers[-1].z.shape[0]
        self._backpropagate(self.check_y(y, n_samples))

    # ---- data checks -------------------------------------------------------------------------------
    def check_x(self, x):
        """``x`` validated and converted once at the door: a finite ``(n_samples, n_inputs)`` array of the network's
        dtype."""
        return as_matrix(x, "X", self.dtype, self.n_inputs, xp=self.xp)

    def check_y(self, y, n_samples: int):
        """Targets validated against ``n_samples`` rows and the output width: class indices become one-hot
        rows; probabilities are required where the cost needs them. Returns ``(n_samples, n_outputs)``.
        """
        return as_targets(y, n_samples, self.n_outputs, self.dtype,
                          probabilities=self.cost.needs_probabilities, xp=self.xp)

    def check_xy(self, x, y):
        """``(check_x(x), check_y(y, len(x)))``."""
        x = self.check_x(x)
        return x, self.check_y(y, x.shape[0])

    # ---- predictions -------------------------------------------------------------------------------
    def predict_proba(self, x) -> np.ndarray:
        """Class probabilities ``(n_samples, n_out)`` for a softmax or sigmoid output."""
        if self.task != "classification":
            raise ConfigError(f"predict_proba needs a sigmoid or softmax output, this network's output is "
                              f"{self.output_activation.name!r}; use predict")
        return to_numpy(self.outputs(x))

    def predict(self, x) -> np.ndarray:
        """Class indices ``(n_samples,)`` for classification (argmax, or ŷ > 0.5 for one sigmoid output);
        the raw outputs ``(n_samples, n_out)`` for regression."""
        outputs = self.outputs(x)
        return to_numpy(self.decide(outputs)) if self.task == "classification" else to_numpy(outputs)

    def decide(self, outputs):
        """Class decisions from outputs: argmax over units, or ŷ > 0.5 for a single sigmoid unit."""
        xp = namespace_of(outputs)
        if outputs.shape[1] == 1:
            above = outputs[:, 0] > 0.5
            return above.astype(np.int64) if numpy_like(xp) else xp.astype(above, xp.int64)
        return xp.argmax(outputs, axis=1)

    def _chunk_rows(self) -> int:
        """Rows per chunk when predicting: about 16 M values in the widest layer (64 MB in float32)."""
        return max(1024, 2 ** 24 // max(self.params.widest, 1))

    def _predict_chunk(self, x):
        for layer in self.layers:
            x = layer.predict(x)
        return x

    def outputs(self, x, checked: bool = False):
        """ŷ ``(n_samples, n_out)`` in the network's namespace, with nothing cached (the training state
        stays as it was); long inputs go through in chunks."""
        if not checked:
            x = self.check_x(x)
        n, step = x.shape[0], self._chunk_rows()
        if n <= step:  # one chunk (every small input): straight through
            return self._predict_chunk(x)
        # slice bounds inside the array and both axes named: the array API standard asks for both
        outputs = [self._predict_chunk(x[start:min(start + step, n), :]) for start in range(0, n, step)]
        return outputs[0] if len(outputs) == 1 else self.xp.concatenate(outputs)

    def evaluate(self, x, y) -> dict:
        """``{"loss": C, "accuracy": fraction correct}`` (accuracy for classification only)."""
        x, y = self.check_xy(x, y)
        total, n_correct, step = 0.0, 0, self._chunk_rows()
        last = self.layers[-1]
        n = x.shape[0]
        for start in range(0, n, step):
            # slice bounds inside the array and both axes named, as the array API standard asks
            xb, yb = x[start:min(start + step, n), :], y[start:min(start + step, n), :]
            for layer in self.layers[:-1]:  # nothing is cached: training state stays as it was
                xb = layer.predict(xb)
            a = self.xp.matmul(xb, last.W)
            a += last.b
            z = last.activation.forward(a)
            total += self._cost_of(a, z, yb) * xb.shape[0]
            if self.task == "classification":
                n_correct += self.count_correct(z, yb)
        result = {"loss": total / x.shape[0] + self.penalty()}
        if self.task == "classification":
            result["accuracy"] = n_correct / x.shape[0]
        return result

    def count_decided(self, outputs, labels) -> int:
        """How many rows of ``outputs`` decide the class in ``labels`` ``(n_samples,)`` (see :meth:`decide`)."""
        if type(outputs) is np.ndarray:  # numpy: a comparison or an argmax, and a count
            decided = outputs[:, 0] > 0.5 if outputs.shape[1] == 1 else outputs.argmax(axis=1)
            return int(np.count_nonzero(decided == labels))
        return count_true(self.decide(outputs) == labels)

    def count_correct(self, outputs, y) -> int:
        """How many rows of ``outputs`` decide the same class as targets ``y`` (one-hot or 0/1)."""
        return count_true(self.decide(outputs) == self.decide(y))

    # ---- parameters --------------------------------------------------------------------------------
    def parameters(self) -> list:
        """``[W_1, b_1, W_2, b_2, ...]``: the arrays the optimizer updates in place."""
        return [p for layer in self.layers for p in layer.parameters()]

    def parameter_gradients(self) -> list:
        """``[dC/dW_1, dC/db_1, ...]``: the gradient views, in the order of :meth:`parameters`."""
        return [g for layer in self.layers for g in layer.gradients()]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of ``[W_1, b_1, ...]`` as numpy arrays."""
        return [to_numpy(p).copy() for p in self.parameters()]

    def set_weights(self, weights: Sequence) -> None:
        """Copy ``[W_1, b_1, ...]`` into the network (shapes must match), in place."""
        params = self.parameters()
        if len(weights) != len(params):
            raise ConfigError(f"set_weights needs {len(params)} arrays (W and b per layer), got {len(weights)}")
        for index, (param, value) in enumerate(zip(params, weights)):
            value = np.asarray(value)
            if value.shape != param.shape:
                raise ConfigError(f"weight array {index} has shape {value.shape}, expected {param.shape}")
            param[...] = self.xp.asarray(value, dtype=self.dtype)

    def get_config(self) -> dict:
        """The architecture (layers, cost, L2, seed, dtype) as a JSON-ready dict, without the weights."""
        return {
            "layers": [layer.get_config() for layer in self.layers],
            "cost": self.cost.get_config(),
            "l2": self.l2,
            "l1": self.l1,
            "seed": self.seed,
            "dtype": self.dtype.name,
        }

    @classmethod
    def from_config(cls, config: dict) -> "Network":
        """A network with the architecture of a :meth:`get_config` dict and fresh initial weights."""
        layers = [Dense.from_config(c) for c in config["layers"]]
        return cls(layers, cost=config["cost"], l2=config.get("l2", 0.0), l1=config.get("l1", 0.0),
                   seed=config.get("seed"), dtype=config.get("dtype", "float64"))

    def copy(self) -> "Network":
        """An independent network with the same architecture and a copy of the weights."""
        twin = Network.from_config(self.get_config())
        twin.set_weights(self.get_weights())
        return twin

    # ---- conveniences assembled one floor up --------------------------------------------------------
    #: ``fit`` (glassnet.run), ``trace`` (glassnet.trace) live on floors above the model: they register
    #: themselves here when glassnet is imported, so the model never imports training, files or the trace
    conveniences: dict = {}

    @classmethod
    def provide(cls, name: str, function) -> None:
        """Register ``function(network, ...)`` as the method ``name`` (``fit``, ``trace``)."""
        cls.conveniences[name] = function

    def _convenience(self, name: str):
        if name not in self.conveniences:
            raise ConfigError(f"Network.{name} needs the full package: import glassnet")
        return self.conveniences[name]

    def fit(self, x, y, **options):
        """Train by gradient descent; see :func:`glassnet.run.fit` for the options. Returns a History."""
        return self._convenience("fit")(self, x, y, **options)

    def trace(self, x, y, learning_rate: float = 0.1, apply: bool = False):
        """Every number of one gradient-descent step on (x, y): see :class:`glassnet.trace.StepTrace`."""
        return self._convenience("trace")(self, x, y, learning_rate, apply)

    def _repr_html_(self) -> str:
        rows = [[i + 1, layer.n_in, layer.n_out, layer.activation.name, f"{layer.n_weights:,}", layer.n_biases]
                for i, layer in enumerate(self.layers)]
        doc = Document().text(repr(self)).table(["layer", "inputs", "units", "activation", "weights", "biases"], rows)
        return doc.to_html()

    def __repr__(self) -> str:
        parts = [str(self.n_inputs)] + [f"{layer.n_out} {layer.activation.name}" for layer in self.layers]
        return (f"Network({' -> '.join(parts)}; {self.n_weights:,} weights, {self.n_biases:,} biases; "
                f"cost {self.cost.name})")

