"""A feedforward network: forward over the layers, backward over them in reverse.

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
from .backend import namespace_for, to_numpy
from .costs import Cost, default_cost_for, get_cost
from .errors import ConfigError, NotFittedError
from .layers import Dense
from .validation import as_matrix, as_targets


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
    layers : sequence of int (layer sizes, input first) or sequence of Dense
    activation : hidden-layer activation (name, config dict or instance); used with sizes only
    output : output activation; defaults to ``activation``
    cost : cost name or instance; defaults to the one that matches the output (softmax -> cross_entropy,
        sigmoid -> binary_cross_entropy, otherwise quadratic)
    weight_init, bias_init : initializer names, numbers (constant) or callables; ``"auto"`` is He for
        ReLU-family layers and Glorot otherwise
    l2 : L2 penalty on the weights (not biases); the objective becomes C + (l2/2) Σ_l ‖W_l‖²
    seed : seed of the network's ``numpy.random.Generator`` (initial weights and shuffling)
    dtype : "float64" (default) or "float32", for weights, data and every intermediate value; the
        command line trains in float32 by default (faster; about 7 significant digits)
    """

    def __init__(self, layers: Sequence, activation="sigmoid", output=None, cost=None, weight_init="auto",
                 bias_init="zeros", l2: float = 0.0, seed: int | None = None, dtype="float64",
                 device: str = "cpu"):
        self.dtype = np.dtype(dtype) if not isinstance(dtype, np.dtype) else dtype
        if self.dtype not in (np.float32, np.float64):
            raise ConfigError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.layers = self._build_layers(layers, activation, output, weight_init, bias_init)
        self.cost: Cost = default_cost_for(self.output_activation) if cost is None else get_cost(cost)
        self.cost.check_output(self.output_activation)
        self.l2 = _check_l2(l2)
        self.device = "cpu"
        self._flat = None
        if device != "cpu":
            self.to(device)
        else:
            self._pack()

    # ---- construction ------------------------------------------------------------------------------
    def _build_layers(self, layers, activation, output, weight_init, bias_init) -> list[Dense]:
        if isinstance(layers, (str, bytes)) or not hasattr(layers, "__len__") or len(layers) == 0:
            raise ConfigError(f"layers must be a non-empty list of sizes or Dense layers, got {layers!r}")
        if all(isinstance(layer, Dense) for layer in layers):
            built = list(layers)
            for below, above in zip(built, built[1:]):
                if below.n_out != above.n_in:
                    raise ConfigError(f"layer widths do not chain: a layer with {below.n_out} outputs feeds "
                                      f"a layer with {above.n_in} inputs")
            for layer in built:
                if layer.dtype != self.dtype:
                    raise ConfigError(f"layer {layer!r} has dtype {layer.dtype}, the network {self.dtype}")
            return built
        if len(layers) < 2:
            raise ConfigError(f"layer sizes need an input and at least one layer, e.g. [2, 3, 1]; got {list(layers)!r}")
        hidden = get_activation(activation)
        out = hidden if output is None else get_activation(output)
        built = []
        for index, (n_in, n_out) in enumerate(zip(layers[:-1], layers[1:])):
            act = out if index == len(layers) - 2 else hidden
            w_init = _auto_weight_init(act) if weight_init == "auto" else weight_init
            built.append(Dense(n_in, n_out, act, w_init, bias_init, self.dtype))
        for layer in built:
            layer.reset_parameters(self.rng)
        return built

    def reset_parameters(self, seed: int | None = None) -> None:
        """Draw fresh initial weights (from ``seed`` if given, else from the network's generator)."""
        if seed is not None:
            self.seed, self.rng = seed, np.random.default_rng(seed)
        for layer in self.layers:
            layer.reset_parameters(self.rng)
            layer.W, layer.b = self.xp.asarray(layer.W), self.xp.asarray(layer.b)

    def to(self, device: str) -> "Network":
        """Move the weights to ``device`` ("cpu" or "cuda")."""
        xp = namespace_for(device)
        for layer in self.layers:
            layer.to(xp)
        self.device = device
        self._pack()
        return self

    def _pack(self) -> None:
        """Hold all weights in one flat array and all biases in another, with each layer's W and b views
        into them, and the same for the training gradients. The optimizer and the gradient checks then
        make a few calls on two arrays per step instead of a few calls per W and b of every layer."""
        xp = self.xp
        weights = xp.empty(self.n_weights, dtype=self.dtype)
        biases = xp.empty(self.n_biases, dtype=self.dtype)
        grad_weights, grad_biases = xp.zeros_like(weights), xp.zeros_like(biases)
        views, w_at, b_at = [], 0, 0
        for layer in self.layers:
            w_end, b_end = w_at + layer.n_weights, b_at + layer.n_biases
            W, b = weights[w_at:w_end].reshape(layer.W.shape), biases[b_at:b_end]
            grad_W, grad_b = grad_weights[w_at:w_end].reshape(layer.W.shape), grad_biases[b_at:b_end]
            W[...], b[...] = layer.W, layer.b
            layer.bind(W, b, grad_W, grad_b)
            views.append((W, b, grad_W, grad_b))
            w_at, b_at = w_end, b_end
        self._flat = ([weights, biases], [grad_weights, grad_biases], views)

    def parameter_groups(self) -> tuple[list, list, list]:
        """``([weights, biases], [grad_weights, grad_biases], [True, False])``: every weight in one flat
        array and every bias in another (the layers' W and b are views into them), their gradients from
        the last training step laid out alike, and which of the two weight decay applies to."""
        if any(layer.W is not W or layer.b is not b for layer, (W, b, _, _) in zip(self.layers, self._flat[2])):
            self._pack()  # a layer's W or b was replaced by another array: gather the values again
        params, grads, views = self._flat
        for layer, (W, b, grad_W, grad_b) in zip(self.layers, views):
            if layer.grad_W is not None and layer.grad_W is not grad_W:
                layer.bind(W, b, grad_W, grad_b)  # the last backward wrote its own arrays: bind copies them in
        return params, grads, [True, False]

    @property
    def xp(self):
        """The array namespace of the network's device (numpy on the CPU)."""
        return np if self.device == "cpu" else namespace_for(self.device)

    # ---- sizes -------------------------------------------------------------------------------------
    @property
    def output_activation(self):
        return self.layers[-1].activation

    @property
    def sizes(self) -> list[int]:
        return [self.layers[0].n_in] + [layer.n_out for layer in self.layers]

    @property
    def n_inputs(self) -> int:
        return self.layers[0].n_in

    @property
    def n_outputs(self) -> int:
        return self.layers[-1].n_out

    @property
    def n_weights(self) -> int:
        return sum(layer.n_weights for layer in self.layers)

    @property
    def n_biases(self) -> int:
        return sum(layer.n_biases for layer in self.layers)

    @property
    def n_parameters(self) -> int:
        return self.n_weights + self.n_biases

    @property
    def task(self) -> str:
        """"classification" for a sigmoid or softmax output, else "regression"."""
        return "classification" if isinstance(self.output_activation, (Sigmoid, Softmax)) else "regression"

    # ---- forward and backward ----------------------------------------------------------------------
    def forward(self, x):
        """ŷ for a batch, caching every layer's x, a and z. ``x: (n_samples, n_in) -> (n_samples, n_out)``."""
        return self._forward(self.check_x(x))

    def _forward(self, x, reuse: bool = False):
        for layer in self.layers:
            x = layer.forward(x, reuse)
        return x

    def _fused(self) -> bool:
        return self.cost.fuses_with(self.output_activation)

    def _cost_value(self, y, sample_weight=None) -> float:
        """The cost of the last forward pass against targets ``y`` (plus the L2 penalty).

        With ``sample_weight: (n_samples,)`` the mean over samples is the weighted mean Σ w c / Σ w.
        """
        last = self.layers[-1]
        return self._cost_of(last.a, last.z, y, sample_weight) + self.l2_penalty()

    def _cost_of(self, a, z, y, sample_weight=None) -> float:
        """The cost (without L2) of output weighted sums ``a`` and activations ``z`` against ``y``."""
        per = self.cost.output_per_sample(self.output_activation, a, z, y)
        if sample_weight is None:
            return float(per.sum() / y.shape[0])
        return float((per * sample_weight).sum() / sample_weight.sum())

    def l2_penalty(self) -> float:
        """(l2/2) Σ_l ‖W_l‖² — zero unless ``l2`` is set. Biases are not penalised."""
        if not self.l2:
            return 0.0
        return 0.5 * self.l2 * sum(float((layer.W * layer.W).sum()) for layer in self.layers)

    def _backward(self, y, reuse: bool = False, sample_weight=None) -> None:
        """Fill every layer's delta, grad_W and grad_b from the last forward pass and targets ``y``."""
        last, deep = self.layers[-1], len(self.layers) > 1
        # weighted mean: each sample's share of dC/dŷ is n·w_i/Σw times its share in the plain mean
        scale = None if sample_weight is None else (sample_weight * (y.shape[0] / sample_weight.sum()))[:, None]
        # delta_L = dC/da_L: (ŷ − y)/n for a matched pair, otherwise dC/dŷ ⊙ f'(a_L) or the pair's own
        # form in a_L (see costs.py for the derivations)
        delta = self.cost.output_delta(last.activation, last.a, last.z, y,
                                       out=last._buffer("delta", last.z.shape, reuse))
        if scale is not None:
            delta *= scale
        grad_below = last.backward(delta, need_input_grad=deep, reuse=reuse)
        for index in range(len(self.layers) - 2, -1, -1):
            # delta_l = (delta_{l+1} @ W_{l+1}.T) ⊙ f'(a_l); the first layer needs no dC/dx
            grad_below = self.layers[index].backward_from_output_grad(grad_below, need_input_grad=index > 0,
                                                                      reuse=reuse)
        if self.l2:
            for layer in self.layers:
                # d/dW of (l2/2)‖W‖² = l2 · W
                layer.grad_W += self.l2 * layer.W

    def loss(self, x, y) -> float:
        """The cost C on (x, y), plus the L2 penalty if set."""
        x, y = self.check_xy(x, y)
        self._forward(x)
        return self._cost_value(y)

    def gradients(self, x, y) -> list[tuple]:
        """Forward, then backpropagate: ``[(dC/dW_1, dC/db_1), ...]`` (arrays owned by the layers)."""
        x, y = self.check_xy(x, y)
        self._forward(x)
        self._backward(y)
        return [(layer.grad_W, layer.grad_b) for layer in self.layers]

    def backward(self, y) -> None:
        """Backpropagate from the last :meth:`forward` against targets ``y``; fills each layer's gradients."""
        if self.layers[-1].z is None:
            raise NotFittedError("backward needs a forward pass first: call forward(x)")
        n_samples = self.layers[-1].z.shape[0]
        self._backward(self.check_y(y, n_samples))

    # ---- data checks -------------------------------------------------------------------------------
    def check_x(self, x):
        return as_matrix(x, "X", self.dtype, self.n_inputs, xp=self.xp)

    def check_y(self, y, n_samples: int):
        return as_targets(y, n_samples, self.n_outputs, self.dtype,
                          probabilities=self.cost.needs_probabilities, xp=self.xp)

    def check_xy(self, x, y):
        x = self.check_x(x)
        return x, self.check_y(y, x.shape[0])

    # ---- predictions -------------------------------------------------------------------------------
    def predict_proba(self, x) -> np.ndarray:
        """Class probabilities ``(n_samples, n_out)`` for a softmax or sigmoid output."""
        if self.task != "classification":
            raise ConfigError(f"predict_proba needs a sigmoid or softmax output, this network's output is "
                              f"{self.output_activation.name!r}; use predict")
        return to_numpy(self._forward_no_cache(self.check_x(x)))

    def predict(self, x) -> np.ndarray:
        """Class indices ``(n_samples,)`` for classification (argmax, or ŷ > 0.5 for one sigmoid output);
        the raw outputs ``(n_samples, n_out)`` for regression."""
        outputs = self._forward_no_cache(self.check_x(x))
        return to_numpy(self.decide(outputs)) if self.task == "classification" else to_numpy(outputs)

    def decide(self, outputs):
        """Class decisions from outputs: argmax over units, or ŷ > 0.5 for a single sigmoid unit."""
        if outputs.shape[1] == 1:
            return (outputs[:, 0] > 0.5).astype(np.int64)
        return outputs.argmax(axis=1)

    def _chunk_rows(self) -> int:
        """Rows per chunk when predicting: about 16 M values in the widest layer (64 MB in float32)."""
        return max(1024, 2 ** 24 // max(self.sizes))

    def _predict_chunk(self, x):
        for layer in self.layers:
            x = layer.predict(x)
        return x

    def _forward_no_cache(self, x):
        step = self._chunk_rows()
        outputs = [self._predict_chunk(x[start:start + step]) for start in range(0, x.shape[0], step)]
        return outputs[0] if len(outputs) == 1 else self.xp.concatenate(outputs)

    def evaluate(self, x, y) -> dict:
        """``{"loss": C, "accuracy": fraction correct}`` (accuracy for classification only)."""
        x, y = self.check_xy(x, y)
        total, n_correct, step = 0.0, 0, self._chunk_rows()
        last = self.layers[-1]
        for start in range(0, x.shape[0], step):
            xb, yb = x[start:start + step], y[start:start + step]
            for layer in self.layers[:-1]:  # nothing is cached: training state stays as it was
                xb = layer.predict(xb)
            a = self.xp.matmul(xb, last.W)
            a += last.b
            z = last.activation.forward(a)
            total += self._cost_of(a, z, yb) * xb.shape[0]
            if self.task == "classification":
                n_correct += self.count_correct(z, yb)
        result = {"loss": total / x.shape[0] + self.l2_penalty()}
        if self.task == "classification":
            result["accuracy"] = n_correct / x.shape[0]
        return result

    def count_correct(self, outputs, y) -> int:
        """How many rows of ``outputs`` decide the same class as targets ``y`` (one-hot or 0/1)."""
        return int((self.decide(outputs) == self.decide(y)).sum())

    # ---- parameters --------------------------------------------------------------------------------
    def parameters(self) -> list:
        """``[W_1, b_1, W_2, b_2, ...]``: the arrays the optimizer updates in place."""
        return [p for layer in self.layers for p in layer.parameters()]

    def parameter_gradients(self) -> list:
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
        return {
            "layers": [layer.get_config() for layer in self.layers],
            "cost": self.cost.get_config(),
            "l2": self.l2,
            "seed": self.seed,
            "dtype": self.dtype.name,
        }

    @classmethod
    def from_config(cls, config: dict) -> "Network":
        layers = [Dense.from_config(c) for c in config["layers"]]
        return cls(layers, cost=config["cost"], l2=config.get("l2", 0.0), seed=config.get("seed"),
                   dtype=config.get("dtype", "float64"))

    def copy(self) -> "Network":
        twin = Network.from_config(self.get_config())
        twin.set_weights(self.get_weights())
        return twin

    # ---- training ----------------------------------------------------------------------------------
    def fit(self, x, y, **options):
        """Train by gradient descent; see :func:`glassnet.training.fit` for the options. Returns a History."""
        from .training import fit

        return fit(self, x, y, **options)

    def trace(self, x, y, learning_rate: float = 0.1, apply: bool = False):
        """Every number of one gradient-descent step on (x, y): see :class:`glassnet.trace.StepTrace`."""
        from .trace import StepTrace

        return StepTrace(self, x, y, learning_rate, apply)

    def _repr_html_(self) -> str:
        from .document import Document

        rows = [[i + 1, layer.n_in, layer.n_out, layer.activation.name, f"{layer.n_weights:,}", layer.n_biases]
                for i, layer in enumerate(self.layers)]
        doc = Document().text(repr(self)).table(["layer", "inputs", "units", "activation", "weights", "biases"], rows)
        return doc.to_html()

    def __repr__(self) -> str:
        parts = [str(self.n_inputs)] + [f"{layer.n_out} {layer.activation.name}" for layer in self.layers]
        return (f"Network({' -> '.join(parts)}; {self.n_weights:,} weights, {self.n_biases:,} biases; "
                f"cost {self.cost.name})")


def _check_l2(l2) -> float:
    if isinstance(l2, bool) or not isinstance(l2, (int, float)) or not np.isfinite(l2) or l2 < 0:
        raise ConfigError(f"l2 must be a finite number >= 0, got {l2!r}")
    return float(l2)
