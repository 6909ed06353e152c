"""Dense layers: ``a = x @ W + b``, ``z = f(a)``.

Weights are stored as ``W: (n_in, n_out)`` so the forward pass of a batch is one matrix product
``x: (n_samples, n_in) @ W -> (n_samples, n_out)``; biases are ``b: (n_out,)``.
"""
from __future__ import annotations

import numpy as np

from .activations import Activation, get_activation
from .backend import namespace_of
from .errors import ConfigError, NotFittedError
from .initializers import get_initializer, initializer_config


def _check_size(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class Dense:
    """A fully connected layer.

    Forward:  ``x: (n_samples, n_in) -> z: (n_samples, n_out)`` with ``a = x @ W + b`` and ``z = f(a)``.
    Backward: given this layer's delta ``dC/da: (n_samples, n_out)``, stores ``grad_W = x.T @ delta``
    ``(n_in, n_out)`` and ``grad_b = Σ_samples delta`` ``(n_out,)``, and returns ``dC/dx = delta @ W.T``
    ``(n_samples, n_in)`` for the layer below.

    After a forward and backward pass the layer exposes every intermediate value of the step:
    ``x`` (its input, the previous layer's z), ``a``, ``z``, ``delta``, ``grad_W`` and ``grad_b``.
    """

    def __init__(self, n_in: int, n_out: int, activation="sigmoid", weight_init="glorot_uniform",
                 bias_init="zeros", dtype=np.float64):
        self.n_in = _check_size("n_in", n_in)
        self.n_out = _check_size("n_out", n_out)
        self.activation: Activation = get_activation(activation)
        self.weight_init = get_initializer(weight_init)
        self.bias_init = get_initializer(bias_init)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ConfigError(f"dtype must be float32 or float64, got {self.dtype}")
        self.W = np.zeros((self.n_in, self.n_out), dtype=self.dtype)
        self.b = np.zeros(self.n_out, dtype=self.dtype)
        self._gradient_store = None  # the gradient arrays training steps write into, by (name, shape) (see bind)
        self.clear()

    def reset_parameters(self, rng: np.random.Generator) -> None:
        """Draw W and b from the layer's initializers (in place, so optimizer state keeps pointing at them)."""
        self.W[...] = self.weight_init((self.n_in, self.n_out), rng, self.dtype)
        self.b[...] = self.bias_init((self.n_out,), rng, self.dtype)

    def clear(self) -> None:
        """Forget the cached values of the last step and the training buffers."""
        self.x = self.a = self.z = self.delta = None
        self.grad_W = self.grad_b = None
        self._buffers = dict(self._gradient_store or {})  # bound gradient arrays stay (see bind)

    def bind(self, W, b, grad_W, grad_b) -> None:
        """Use ``W``, ``b`` (holding this layer's values) as the parameters and ``grad_W``, ``grad_b`` as the
        arrays training steps write the gradients into: views of a network's flat arrays (see
        :meth:`Network.parameter_groups`)."""
        self.W, self.b = W, b
        self._gradient_store = {("grad_W", W.shape): grad_W, ("grad_b", b.shape): grad_b}
        self._buffers.update(self._gradient_store)
        if self.grad_W is not None:  # the last step's gradients move along (the cached x, a, z stay valid)
            grad_W[...], grad_b[...] = self.grad_W, self.grad_b
            self.grad_W, self.grad_b = grad_W, grad_b

    def _buffer(self, name: str, shape: tuple, reuse: bool, fill=None):
        """A work array: with ``reuse`` the same array serves every step of that shape (no allocation).
        ``fill``: the value a new array starts with (otherwise its contents are undefined)."""
        if not reuse:
            return None
        key = (name, shape)
        found = self._buffers.get(key)
        if found is None:
            found = self._buffers[key] = namespace_of(self.W).empty(shape, dtype=self.dtype)
            if fill is not None:
                found.fill(fill)
        return found

    def _ones(self, n: int, reuse: bool):
        """A vector of n ones (kept between steps with ``reuse``)."""
        if not reuse:
            return namespace_of(self.W).ones(n, dtype=self.dtype)
        return self._buffer("ones", (n,), reuse, fill=1)

    # ---- forward -----------------------------------------------------------------------------------
    def forward(self, x, reuse: bool = False):
        """z = f(x @ W + b); caches x, a and z. ``x: (n_samples, n_in) -> (n_samples, n_out)``.

        ``reuse=True`` (the training loop) writes into arrays kept from the previous step of the same
        batch size, so a step allocates nothing; the cached values are then overwritten by the next step.
        """
        xp = namespace_of(x)
        shape = (x.shape[0], self.n_out)
        a = xp.matmul(x, self.W, out=self._buffer("a", shape, reuse))
        a += self.b  # a = x W + b  (the weighted sum, seed 003's h(x))
        self.x, self.a = x, a
        self.z = self.activation.forward(a, out=self._buffer("z", shape, reuse))
        return self.z

    def predict(self, x):
        """z = f(x @ W + b) with nothing cached: f is applied in place over the weighted sums."""
        a = namespace_of(x).matmul(x, self.W)
        a += self.b
        return self.activation.forward(a, out=a)

    # ---- backward ----------------------------------------------------------------------------------
    def backward_from_output_grad(self, grad_z, need_input_grad: bool = True, reuse: bool = False):
        """Backward pass given dC/dz of this layer's output: applies f' and then :meth:`backward`."""
        if self.a is None:
            raise NotFittedError("backward called before forward on this layer")
        # delta_l = dC/dz_l ⊙ f'(a_l), where dC/dz_l = delta_{l+1} @ W_{l+1}.T came from the layer above
        # (with reuse, grad_z is this layer's own buffer and is overwritten by delta in place)
        delta = self.activation.backward(grad_z, self.a, self.z, out=grad_z if reuse else None)
        return self.backward(delta, need_input_grad, reuse)

    def backward(self, delta, need_input_grad: bool = True, reuse: bool = False):
        """Given this layer's delta dC/da, store the parameter gradients and return dC/dx (or None)."""
        xp = namespace_of(delta)
        self.delta = delta
        grad_W = self._buffer("grad_W", self.W.shape, reuse)
        if delta.shape[0] == 1:
            # one sample: the outer product x.T delta (BLAS's k = 1 matmul path is ~5x slower)
            self.grad_W = xp.multiply(self.x.reshape(-1, 1), delta, out=grad_W)
        else:
            # dC/dW_l = z_{l-1}.T @ delta_l   (z_{l-1} is this layer's input x)
            self.grad_W = xp.matmul(self.x.T, delta, out=grad_W)
        # dC/db_l = Σ_samples delta_l, as the product 1.T @ delta_l (BLAS: 2x faster than sum(axis=0))
        self.grad_b = xp.matmul(self._ones(delta.shape[0], reuse), delta,
                                out=self._buffer("grad_b", self.b.shape, reuse))
        if not need_input_grad:
            return None
        # dC/dz_{l-1} = delta_l @ W_l.T   (written into the layer below's buffer when reusing)
        return xp.matmul(delta, self.W.T, out=self._buffer("grad_x", self.x.shape, reuse))

    # ---- bookkeeping -------------------------------------------------------------------------------
    @property
    def n_weights(self) -> int:
        return self.n_in * self.n_out

    @property
    def n_biases(self) -> int:
        return self.n_out

    def parameters(self) -> list:
        return [self.W, self.b]

    def gradients(self) -> list:
        return [self.grad_W, self.grad_b]

    def to(self, xp) -> None:
        """Move W and b into array namespace ``xp`` (numpy or cupy)."""
        if namespace_of(self.W) is not xp:
            self.W = xp.asarray(self.W)
            self.b = xp.asarray(self.b)
            self._gradient_store = None
        self.clear()

    def get_config(self) -> dict:
        return {
            "n_in": self.n_in,
            "n_out": self.n_out,
            "activation": self.activation.get_config(),
            "weight_init": initializer_config(self.weight_init),
            "bias_init": initializer_config(self.bias_init),
            "dtype": self.dtype.name,
        }

    @classmethod
    def from_config(cls, config: dict) -> "Dense":
        return cls(**config)

    def extra_repr(self) -> str:
        return f"{self.n_in} -> {self.n_out}, activation={self.activation.name}"

    def __repr__(self) -> str:
        return f"Dense({self.extra_repr()})"
