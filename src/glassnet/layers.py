"""Dense layers (model floor): ``a = x @ W + b``, ``z = f(a)``.

Weights are stored as ``W: (n_in, n_out)`` so the forward pass of a batch is one matrix product
``x: (n_samples, n_in) @ W -> (n_samples, n_out)``; biases are ``b: (n_out,)``.
"""
from __future__ import annotations

import numpy as np

from .activations import Activation, get_activation
from .backend import engine_namespace, namespace_of, product, to_numpy
from .constraints import check
from .errors import ConfigError, NotFittedError
from .initializers import get_initializer, initializer_config
from .params import LayerParameters, ParameterStore, WorkArrays


def _converted(target, value):
    """``value`` as an array of ``target``'s namespace (a GPU array comes back to numpy with a copy)."""
    xp = namespace_of(target)
    return to_numpy(value) if xp is np else xp.asarray(value)


class Dense:
    """A fully connected layer.

    Forward:  ``x: (n_samples, n_in) -> z: (n_samples, n_out)`` with ``a = x @ W + b`` and ``z = f(a)``.
    Backward: given this layer's delta ``dC/da: (n_samples, n_out)``, writes ``grad_W = x.T @ delta``
    ``(n_in, n_out)`` and ``grad_b = Σ_samples delta`` ``(n_out,)``, and returns ``dC/dx = delta @ W.T``
    ``(n_samples, n_in)`` for the layer below.

    ``W``, ``b``, ``grad_W`` and ``grad_b`` are views into a :class:`~glassnet.params.ParameterStore`: the
    layer's own until a :class:`~glassnet.network.Network` is built from it, then the network's (see
    :meth:`attach`). Assigning ``layer.W = array`` copies the values into that storage.

    After a forward and backward pass the layer exposes every intermediate value of the step:
    ``x`` (its input, the previous layer's z), ``a``, ``z``, ``delta``, ``grad_W`` and ``grad_b``.
    """

    def __init__(self, n_in: int, n_out: int, activation="sigmoid", weight_init="glorot_uniform",
                 bias_init="zeros", dtype=np.float64):
        self.n_in = check("n_in", n_in)
        self.n_out = check("n_out", n_out)
        self.activation: Activation = get_activation(activation)
        if self.n_out < self.activation.min_units:
            raise ConfigError(
                f"activation {self.activation.name!r} needs at least {self.activation.min_units} units in its layer; "
                f"over {self.n_out} its output is a constant (softmax over one unit is always 1, whatever the "
                f"inputs). For two classes use one sigmoid output (output='sigmoid') or two softmax units")
        self.weight_init = get_initializer(weight_init)
        self.bias_init = get_initializer(bias_init)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ConfigError(f"dtype must be float32 or float64, got {self.dtype}")
        self.parameters_set = False  # True once initialised or assigned; a network then keeps the values
        self.attach(ParameterStore([(self.n_in, self.n_out)], self.dtype).layer(0))
        self.clear()

    def attach(self, views: LayerParameters) -> None:
        """Keep W, b and their gradients in ``views`` (a network's store), carrying the current values over.
        Called once, when a network is built from this layer or moved to another device."""
        old = getattr(self, "_views", None)
        if old is not None:
            views.W[...], views.b[...] = _converted(views.W, old.W), _converted(views.b, old.b)
        self._views = views

    W = property(lambda self: self._views.W, lambda self, value: self._assign("W", value),
                 doc="The weights ``(n_in, n_out)`` (a view into the parameter store).")
    """The weights ``(n_in, n_out)`` (a view into the parameter store); assigning copies into it."""
    b = property(lambda self: self._views.b, lambda self, value: self._assign("b", value),
                 doc="The biases ``(n_out,)`` (a view into the parameter store).")
    """The biases ``(n_out,)`` (a view into the parameter store); assigning copies into it."""
    grad_W = property(lambda self: self._views.grad_W, doc="dC/dW of the last backward pass ``(n_in, n_out)``.")
    """dC/dW of the last backward pass ``(n_in, n_out)``: ``x.T @ delta``."""
    grad_b = property(lambda self: self._views.grad_b, doc="dC/db of the last backward pass ``(n_out,)``.")
    """dC/db of the last backward pass ``(n_out,)``: delta summed over the samples."""

    def _assign(self, name: str, value) -> None:
        target = getattr(self._views, name)
        value = namespace_of(target).asarray(value, dtype=self.dtype)
        if value.shape != target.shape:
            raise ConfigError(f"{name} must have shape {target.shape}, got {value.shape}")
        target[...] = value
        self.parameters_set = True

    def reset_parameters(self, rng: np.random.Generator) -> None:
        """Draw W and b from the layer's initializers (in place, into the parameter store)."""
        xp = namespace_of(self.W)
        self.W[...] = xp.asarray(self.weight_init((self.n_in, self.n_out), rng, self.dtype))
        self.b[...] = xp.asarray(self.bias_init((self.n_out,), rng, self.dtype))
        self.parameters_set = True

    def clear(self) -> None:
        """Forget the cached values of the last step."""
        self.x = self.a = self.z = self.delta = None

    def _work(self, workspace, n_rows: int) -> WorkArrays | None:
        """The layer's work arrays for batches of ``n_rows`` rows, kept in ``workspace`` (None without one:
        every operation then allocates its result)."""
        return None if workspace is None else workspace.bundle(self, n_rows, self._new_work)

    def _new_work(self, n_rows: int) -> WorkArrays:
        """a and z ``(n_rows, n_out)``, dC/dx ``(n_rows, n_in)`` and a vector of n_rows ones (for Σ delta)."""
        xp, shape = namespace_of(self.W), (n_rows, self.n_out)
        return WorkArrays(a=xp.empty(shape, dtype=self.dtype), z=xp.empty(shape, dtype=self.dtype),
                          grad_x=xp.empty((n_rows, self.n_in), dtype=self.dtype),
                          ones=xp.ones(n_rows, dtype=self.dtype))

    # ---- forward -----------------------------------------------------------------------------------
    def forward(self, x, workspace=None):
        """z = f(x @ W + b); caches x, a and z. ``x: (n_samples, n_in) -> (n_samples, n_out)``.

        With a :class:`~glassnet.params.Workspace` (the training loop) a and z are written into arrays kept
        from the previous step of the same batch size, so a step allocates nothing.
        """
        xp, work = namespace_of(x), self._work(workspace, x.shape[0])
        a = product(xp)(x, self.W, out=None if work is None else work.a)
        a += self.b  # a = x W + b  (the weighted sum, seed 003's h(x))
        self.x, self.a = x, a
        self.z = self.activation.forward(a, out=None if work is None else work.z)
        return self.z

    def predict(self, x):
        """z = f(x @ W + b) with nothing cached: f is applied in place over the weighted sums."""
        a = product(namespace_of(x))(x, self.W)
        a += self.b
        return self.activation.forward(a, out=a)

    # ---- backward ----------------------------------------------------------------------------------
    def backward_from_output_grad(self, grad_z, need_input_grad: bool = True, workspace=None):
        """Backward pass given dC/dz of this layer's output: applies f' and then :meth:`backward`.

        With a workspace, ``grad_z`` is a work array and is overwritten by delta in place."""
        if self.a is None:
            raise NotFittedError("backward called before forward on this layer")
        # delta_l = dC/dz_l ⊙ f'(a_l), where dC/dz_l = delta_{l+1} @ W_{l+1}.T came from the layer above
        delta = self.activation.backward(grad_z, self.a, self.z, out=None if workspace is None else grad_z)
        return self.backward(delta, need_input_grad, workspace)

    def backward(self, delta, need_input_grad: bool = True, workspace=None):
        """Given this layer's delta dC/da, write grad_W and grad_b and return dC/dx (or None)."""
        xp, n_rows, work = namespace_of(delta), delta.shape[0], self._work(workspace, delta.shape[0])
        self.delta = delta
        if n_rows == 1:
            # one sample: the outer product x.T delta (BLAS's k = 1 matmul path is ~5x slower)
            xp.multiply(self.x.T, delta, out=self.grad_W)
        else:
            # dC/dW_l = z_{l-1}.T @ delta_l   (z_{l-1} is this layer's input x)
            product(xp)(self.x.T, delta, out=self.grad_W)
        # dC/db_l = Σ_samples delta_l, as the product 1.T @ delta_l (BLAS: 2x faster than sum(axis=0))
        ones = xp.ones(n_rows, dtype=self.dtype) if work is None else work.ones
        product(xp)(ones, delta, out=self.grad_b)
        if not need_input_grad:
            return None
        # dC/dz_{l-1} = delta_l @ W_l.T   (written into a work array when there is a workspace)
        return product(xp)(delta, self.W.T, out=None if work is None else work.grad_x)

    # ---- bookkeeping -------------------------------------------------------------------------------
    @property
    def n_weights(self) -> int:
        """n_in · n_out."""
        return self.n_in * self.n_out

    @property
    def n_biases(self) -> int:
        """n_out."""
        return self.n_out

    def parameters(self) -> list:
        """``[W, b]``: views into the parameter store."""
        return [self.W, self.b]

    def gradients(self) -> list:
        """``[grad_W, grad_b]``: views into the parameter store's gradients."""
        return [self.grad_W, self.grad_b]

    def to(self, xp) -> None:
        """Move W and b into array namespace ``xp`` (numpy, cupy or another array-API module): a fresh store
        of that namespace (see :meth:`ParameterStore.create`)."""
        xp = engine_namespace(xp)
        if namespace_of(self.W) is not xp:
            self.attach(ParameterStore.create([(self.n_in, self.n_out)], self.dtype, xp).layer(0))
        self.clear()

    def get_config(self) -> dict:
        """Sizes, activation, initializers and dtype as a JSON-ready dict (weights are not included)."""
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
        """A fresh layer from :meth:`get_config` (new initial weights)."""
        return cls(**config)

    def extra_repr(self) -> str:
        """``"n_in -> n_out, activation=name"``, used by ``repr``."""
        return f"{self.n_in} -> {self.n_out}, activation={self.activation.name}"

    def __repr__(self) -> str:
        return f"Dense({self.extra_repr()})"
