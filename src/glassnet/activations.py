"""Activation functions f (math floor), each with its derivative beside it.

Notation follows the seeds: a layer's weighted sum is ``a`` and its activation is ``z = f(a)``.

Every activation works on arrays of shape ``(n_samples, n_units)`` and keeps that shape:
``a: (n_samples, n_units) -> z: (n_samples, n_units)``.

``backward(grad_z, a, z)`` turns dC/dz into dC/da (the layer's delta). For the element-wise functions that is
``grad_z * f'(a)``; softmax couples the units of a sample, so it uses its Jacobian instead.
"""
from __future__ import annotations

import numpy as np

from .backend import constant_vector, namespace_of, numpy_like, row_max, row_sum
from .constraints import check
from .errors import ConfigError
from .registry import Registry


class Activation:
    """Base class. Subclasses define ``forward`` and ``derivative`` (or ``backward``) next to each other."""

    name = "activation"
    #: the interval the outputs lie in; costs that need probabilities check it
    output_range: tuple[float, float] = (-np.inf, np.inf)
    #: True when f acts on each unit alone, so dC/da = dC/dz * f'(a)
    elementwise = True
    #: the fewest units of a layer on which f is not a constant (softmax over one unit is always 1)
    min_units = 1

    def forward(self, a, out=None):
        """z = f(a). ``a: (n_samples, n_units) -> (n_samples, n_units)``; written into ``out`` when given."""
        raise NotImplementedError

    def derivative(self, a, z):
        """f'(a), element-wise, given ``a`` and the cached ``z = f(a)``."""
        raise NotImplementedError

    def backward(self, grad_z, a, z, out=None):
        """dC/da from dC/dz: ``grad_z: (n_samples, n_units) -> (n_samples, n_units)``.

        ``out`` (which may be ``grad_z`` itself) receives the result when given.
        """
        # delta = dC/dz * f'(a)   (chain rule, element-wise)
        return namespace_of(a).multiply(grad_z, self.derivative(a, z), out=out)

    #: the ONNX operator computing f (export), with its attributes in :meth:`onnx_node`
    onnx_op: str | None = None

    def onnx_node(self) -> tuple[str, dict]:
        """``(ONNX operator, attributes)`` that computes this activation, for :mod:`glassnet.onnx_export`."""
        if self.onnx_op is None:
            raise ConfigError(f"activation {self.name!r} has no ONNX export")
        return self.onnx_op, {}

    def get_config(self) -> dict:
        """The activation as a JSON-ready dict, ``{"name": ...}`` plus any parameters; ``get_activation`` rebuilds it."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "Activation":
        """The activation a :meth:`get_config` dict describes (through the registry)."""
        return ACTIVATIONS.get(config)

    def __repr__(self) -> str:
        params = {k: v for k, v in self.get_config().items() if k != "name"}
        inner = ", ".join(f"{k}={v!r}" for k, v in params.items())
        return f"{type(self).__name__}({inner})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Activation) and self.get_config() == other.get_config()

    __hash__ = object.__hash__


ACTIVATIONS = Registry("activation", Activation)


@ACTIVATIONS.register("identity")
class Identity(Activation):
    """f(a) = a; f'(a) = 1. Used as a linear output for regression (the seed-003 XOR network uses it everywhere)."""

    name = "identity"
    onnx_op = "Identity"

    def forward(self, a, out=None):
        return a

    def derivative(self, a, z):
        return namespace_of(a).ones_like(a)

    def backward(self, grad_z, a, z, out=None):
        # f'(a) = 1, so delta = dC/dz
        return grad_z


ACTIVATIONS.register("linear", Identity, alias=True)


@ACTIVATIONS.register("sigmoid")
class Sigmoid(Activation):
    """f(a) = 1 / (1 + e^-a); f'(a) = f(a) (1 - f(a)). Overflow-safe for any float input."""

    name = "sigmoid"
    onnx_op = "Sigmoid"
    output_range = (0.0, 1.0)

    def forward(self, a, out=None):
        xp = namespace_of(a)
        positive = a >= 0  # taken first: ``out`` may be ``a`` itself
        # e = exp(-|a|) never overflows; sigmoid(-|a|) = e / (1 + e) keeps full precision in the tail,
        # and sigmoid(a) = 1 - sigmoid(-|a|) where a >= 0
        z = xp.abs(a, out=out)
        xp.negative(z, out=z)
        xp.exp(z, out=z)
        z /= z + 1.0
        xp.subtract(1.0, z, out=z, where=positive)
        return z

    def derivative(self, a, z):
        # f'(a) = z (1 - z), reusing the cached forward output
        return z * (1.0 - z)

    def backward(self, grad_z, a, z, out=None):
        xp = namespace_of(a)
        # delta = dC/dz * z (1 - z)
        fprime = xp.subtract(1.0, z)
        fprime *= z
        return xp.multiply(grad_z, fprime, out=out)


ACTIVATIONS.register("logistic", Sigmoid, alias=True)


@ACTIVATIONS.register("tanh")
class Tanh(Activation):
    """f(a) = tanh(a); f'(a) = 1 - tanh(a)^2."""

    name = "tanh"
    onnx_op = "Tanh"
    output_range = (-1.0, 1.0)

    def forward(self, a, out=None):
        return namespace_of(a).tanh(a, out=out)

    def derivative(self, a, z):
        # f'(a) = 1 - z^2
        return 1.0 - z * z

    def backward(self, grad_z, a, z, out=None):
        xp = namespace_of(a)
        # delta = dC/dz * (1 - z²)
        fprime = xp.multiply(z, z)
        xp.subtract(1.0, fprime, out=fprime)
        return xp.multiply(grad_z, fprime, out=out)


@ACTIVATIONS.register("relu")
class ReLU(Activation):
    """f(a) = max(a, 0); f'(a) = 1 where a > 0 else 0 (0 is taken at a = 0)."""

    name = "relu"
    onnx_op = "Relu"
    output_range = (0.0, np.inf)

    def forward(self, a, out=None):
        xp = namespace_of(a)
        # against a row of zeros, not the scalar 0: numpy's maximum then takes its fast path (2.5x faster
        # on a 512x256 float32 batch); the result is the same, NaN included. On numpy the row is kept.
        zeros = constant_vector(a.shape[-1], a.dtype, 0) if xp is np else xp.zeros(a.shape[-1], dtype=a.dtype)
        return xp.maximum(a, zeros, out=out)

    def derivative(self, a, z):
        return (a > 0).astype(a.dtype)

    def backward(self, grad_z, a, z, out=None):
        # delta = dC/dz * [a > 0]
        xp = namespace_of(a)
        positive = a > 0
        if xp is not np and not numpy_like(xp):  # the standard has no bool × float: a float mask there
            positive = xp.astype(positive, a.dtype)
        return xp.multiply(grad_z, positive, out=out)


@ACTIVATIONS.register("leaky_relu")
class LeakyReLU(Activation):
    """f(a) = a where a > 0 else alpha * a; f'(a) = 1 where a > 0 else alpha."""

    name = "leaky_relu"
    onnx_op = "LeakyRelu"

    def __init__(self, alpha: float = 0.01):
        self.alpha = check("leaky_relu_alpha", alpha, "leaky_relu alpha")

    def onnx_node(self) -> tuple[str, dict]:
        return self.onnx_op, {"alpha": self.alpha}

    def forward(self, a, out=None):
        xp = namespace_of(a)
        return xp.where(a > 0, a, a * self.alpha)

    def derivative(self, a, z):
        xp = namespace_of(a)
        return xp.where(a > 0, xp.asarray(1.0, dtype=a.dtype), xp.asarray(self.alpha, dtype=a.dtype))

    def get_config(self) -> dict:
        """``{"name": "leaky_relu", "alpha": alpha}``."""
        return {"name": self.name, "alpha": self.alpha}


@ACTIVATIONS.register("softplus")
class Softplus(Activation):
    """f(a) = log(1 + e^a); f'(a) = sigmoid(a). Overflow-safe: max(a, 0) + log1p(e^-|a|)."""

    name = "softplus"
    onnx_op = "Softplus"
    output_range = (0.0, np.inf)

    def forward(self, a, out=None):
        xp = namespace_of(a)
        tail = xp.abs(a)  # log1p(e^-|a|), in place: one temporary (``out`` may be ``a`` itself)
        xp.negative(tail, out=tail)
        xp.exp(tail, out=tail)
        xp.log1p(tail, out=tail)
        z = xp.maximum(a, 0, out=out)
        z += tail
        return z

    def derivative(self, a, z):
        return Sigmoid().forward(a)


@ACTIVATIONS.register("softmax")
class Softmax(Activation):
    """f(a)_k = e^{a_k} / sum_j e^{a_j} over the units of one sample (an output activation).

    Its Jacobian is dz_k/da_j = z_k (1[k=j] - z_j), so dC/da = z * (dC/dz - sum_k dC/dz_k z_k).
    Paired with categorical cross-entropy the network uses the fused delta ``z - y`` instead.
    """

    name = "softmax"
    onnx_op = "Softmax"
    output_range = (0.0, 1.0)
    elementwise = False
    min_units = 2  # e^a / e^a = 1 whatever a is: one unit would learn nothing and report a loss of 0

    def onnx_node(self) -> tuple[str, dict]:
        return self.onnx_op, {"axis": 1}  # over the units of each sample

    def forward(self, a, out=None):
        xp = namespace_of(a)
        e = xp.subtract(a, row_max(a), out=out)  # shift by the max: e^x never overflows
        xp.exp(e, out=e)
        e /= row_sum(e)
        return e

    def derivative(self, a, z):
        """The diagonal of the Jacobian, z (1 - z); the full Jacobian is used in ``backward``."""
        return z * (1.0 - z)

    def backward(self, grad_z, a, z, out=None):
        # delta_j = sum_k dC/dz_k * z_k (1[k=j] - z_j) = z_j * (dC/dz_j - sum_k dC/dz_k z_k)
        xp = namespace_of(a)
        return xp.multiply(z, grad_z - row_sum(grad_z * z), out=out)


def get_activation(spec) -> Activation:
    """An :class:`Activation` from a name, a config dict, or an instance."""
    return ACTIVATIONS.get(spec)
