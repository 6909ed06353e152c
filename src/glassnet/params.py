"""The parameter store (model floor): one owner for every weight, bias and gradient of a network.

All weights live in one flat array and all biases in another; the gradients are laid out alike. Each layer
holds *views* of its slices, so the optimizer updates a whole network with a few calls on two arrays, the
checkpoint saves two arrays, and L-BFGS reads and writes one vector — and nobody else sees the flattening
(tinygrad's fused optimizer keeps its flat buffer the same way).

    weights      = [ W_1.ravel() | W_2.ravel() | ... | W_L.ravel() ]     (n_weights,)
    biases       = [ b_1 | b_2 | ... | b_L ]                             (n_biases,)
    grad_weights, grad_biases: the same layout, written by every backward pass

On numpy and CuPy the layers' arrays are views of the flat ones. The array API standard guarantees no
views (a slice or a reshape may be a copy), so under any other namespace (``array_api_strict`` in the tests)
:meth:`ParameterStore.create` gives a :class:`LayerwiseParameterStore` instead: each layer's arrays are their
own, the flat arrays are built on demand, and the optimizer steps on one group per layer array.

A :class:`Workspace` owns the work arrays of a step (weighted sums, activations, deltas, ...), so that a
training loop that passes the same workspace to every step allocates nothing after the first one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .backend import engine_namespace, namespace_of, numpy_like


@dataclass(frozen=True)
class LayerParameters:
    """One layer's views into the store: ``W: (n_in, n_out)``, ``b: (n_out,)`` and their gradients."""

    W: object
    b: object
    grad_W: object
    grad_b: object


@dataclass(frozen=True)
class ParameterGroup:
    """A flat array of parameters, its gradient, and whether weight decay / L2 applies to it."""

    name: str
    values: object
    grads: object
    decay: bool


class ParameterStore:
    """The flat weight, bias and gradient arrays of a stack of layers with shapes ``[(n_in, n_out), ...]``.

    >>> store = ParameterStore([(2, 3), (3, 1)], np.float64)
    >>> store.n_weights, store.n_biases
    (9, 4)
    >>> store.layer(0).W.shape
    (2, 3)
    """

    def __init__(self, shapes: Sequence[tuple[int, int]], dtype, xp=np):
        self._count(shapes, dtype)
        self.weights = xp.zeros(self.n_weights, dtype=self.dtype)
        self.biases = xp.zeros(self.n_biases, dtype=self.dtype)
        self.grad_weights = xp.zeros(self.n_weights, dtype=self.dtype)
        self.grad_biases = xp.zeros(self.n_biases, dtype=self.dtype)
        self.layers = self._slice()
        self._groups = (ParameterGroup("weights", self.weights, self.grad_weights, True),
                        ParameterGroup("biases", self.biases, self.grad_biases, False))

    def _count(self, shapes, dtype) -> None:
        """The shapes, dtype and sizes every store keeps: n_weights, n_biases and the widest layer's width."""
        self.shapes = [tuple(int(n) for n in shape) for shape in shapes]
        self.dtype = np.dtype(dtype)
        self.n_weights = sum(n_in * n_out for n_in, n_out in self.shapes)
        self.n_biases = sum(n_out for _, n_out in self.shapes)
        self.widest = max(max(shape) for shape in self.shapes) if self.shapes else 0

    @classmethod
    def create(cls, shapes: Sequence[tuple[int, int]], dtype, xp=np) -> "ParameterStore":
        """The store for namespace ``xp``: flat arrays with views on numpy and CuPy, a
        :class:`LayerwiseParameterStore` on any other array-API namespace."""
        xp = engine_namespace(xp)
        return cls(shapes, dtype, xp) if numpy_like(xp) else LayerwiseParameterStore(shapes, dtype, xp)

    def _slice(self) -> list[LayerParameters]:
        views, w_at, b_at = [], 0, 0
        for n_in, n_out in self.shapes:
            w_end, b_end = w_at + n_in * n_out, b_at + n_out
            views.append(LayerParameters(
                W=self.weights[w_at:w_end].reshape(n_in, n_out), b=self.biases[b_at:b_end],
                grad_W=self.grad_weights[w_at:w_end].reshape(n_in, n_out), grad_b=self.grad_biases[b_at:b_end]))
            w_at, b_at = w_end, b_end
        return views

    @property
    def xp(self):
        """The array namespace the parameters live in (numpy, or CuPy on a GPU)."""
        return namespace_of(self.weights)

    def layer(self, index: int) -> LayerParameters:
        """The views of layer ``index`` (0-based)."""
        return self.layers[index]

    @property
    def groups(self) -> tuple[ParameterGroup, ...]:
        """``(weights, biases)`` with their gradients; weight decay and L2 apply to the weights only. Made
        once (the arrays never change, only their values): every optimizer step reads it."""
        return self._groups

    def zero_grad(self) -> None:
        """Set every gradient to 0."""
        self.grad_weights.fill(0)
        self.grad_biases.fill(0)

    # ---- one vector of everything (L-BFGS, gradient checks) ----------------------------------------
    @property
    def size(self) -> int:
        """The number of parameters: all weights plus all biases."""
        return self.n_weights + self.n_biases

    def get_vector(self) -> np.ndarray:
        """Every parameter as one float64 numpy vector ``[weights | biases]`` (a copy)."""
        return np.concatenate([_host(self.weights), _host(self.biases)]).astype(np.float64)

    def set_vector(self, vector) -> None:
        """Write a vector laid out as :meth:`get_vector` into the parameters (in place)."""
        vector = np.asarray(vector)
        if vector.shape != (self.size,):
            raise ValueError(f"a parameter vector of {self.size} numbers is needed, got shape {vector.shape}")
        self.weights[...] = self.xp.asarray(vector[:self.n_weights], dtype=self.dtype)
        self.biases[...] = self.xp.asarray(vector[self.n_weights:], dtype=self.dtype)

    def gradient_vector(self) -> np.ndarray:
        """The gradients laid out as :meth:`get_vector` (float64 numpy, a copy)."""
        return np.concatenate([_host(self.grad_weights), _host(self.grad_biases)]).astype(np.float64)


class LayerwiseParameterStore(ParameterStore):
    """The store for array-API namespaces that guarantee no views (``array_api_strict``; CuPy and numpy
    use :class:`ParameterStore`'s flat arrays).

    Each layer's ``W``, ``b``, ``grad_W`` and ``grad_b`` are arrays of their own, the owners of the values.
    ``weights``, ``biases``, ``grad_weights`` and ``grad_biases`` are built on demand by concatenation
    (copies: read them, never write them), and :attr:`groups` lists one group per layer array,
    ``[W_1, b_1, W_2, b_2, ...]``, which the optimizer updates in place.
    """

    def __init__(self, shapes: Sequence[tuple[int, int]], dtype, xp):
        self._count(shapes, dtype)
        self.namespace = engine_namespace(xp)
        zeros = self.namespace.zeros
        self.layers = [LayerParameters(W=zeros((n_in, n_out), dtype=self.dtype), b=zeros(n_out, dtype=self.dtype),
                                       grad_W=zeros((n_in, n_out), dtype=self.dtype),
                                       grad_b=zeros(n_out, dtype=self.dtype))
                       for n_in, n_out in self.shapes]
        self._groups = tuple(group for index, views in enumerate(self.layers, 1)
                             for group in (ParameterGroup(f"W_{index}", views.W, views.grad_W, True),
                                           ParameterGroup(f"b_{index}", views.b, views.grad_b, False)))

    @property
    def xp(self):
        return self.namespace

    def _joined(self, name: str):
        xp = self.namespace
        return xp.concat([xp.reshape(getattr(views, name), (-1,)) for views in self.layers])

    @property
    def weights(self):
        """Every W, flattened and joined ``(n_weights,)`` (a copy)."""
        return self._joined("W")

    @property
    def biases(self):
        """Every b, joined ``(n_biases,)`` (a copy)."""
        return self._joined("b")

    @property
    def grad_weights(self):
        """Every dC/dW, flattened and joined ``(n_weights,)`` (a copy)."""
        return self._joined("grad_W")

    @property
    def grad_biases(self):
        """Every dC/db, joined ``(n_biases,)`` (a copy)."""
        return self._joined("grad_b")

    @property
    def groups(self) -> tuple[ParameterGroup, ...]:
        """``(W_1, b_1, W_2, b_2, ...)`` with their gradients; weight decay and L2 apply to the W's."""
        return self._groups

    def zero_grad(self) -> None:
        for views in self.layers:
            views.grad_W[...] = 0
            views.grad_b[...] = 0

    def _layer_pieces(self, vector) -> list[tuple]:
        """``vector`` laid out as :meth:`get_vector`, cut into ``(W, b)`` numpy pieces per layer."""
        vector = np.asarray(vector)
        if vector.shape != (self.size,):
            raise ValueError(f"a parameter vector of {self.size} numbers is needed, got shape {vector.shape}")
        pieces, w_at, b_at = [], 0, self.n_weights
        for n_in, n_out in self.shapes:
            pieces.append((vector[w_at:w_at + n_in * n_out].reshape(n_in, n_out), vector[b_at:b_at + n_out]))
            w_at, b_at = w_at + n_in * n_out, b_at + n_out
        return pieces

    def set_vector(self, vector) -> None:
        """Write a vector laid out as :meth:`get_vector` into each layer's arrays (in place)."""
        for views, (W, b) in zip(self.layers, self._layer_pieces(vector)):
            views.W[...] = self.namespace.asarray(W, dtype=self.dtype)
            views.b[...] = self.namespace.asarray(b, dtype=self.dtype)


class WorkArrays:
    """One owner's work arrays for one batch size, as attributes (``WorkArrays(a=..., z=...)``); see
    :meth:`Workspace.bundle`."""

    def __init__(self, **arrays):
        self.__dict__.update(arrays)

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays."""
        return sum(_nbytes(value) for value in vars(self).values())


class Workspace:
    """Work arrays kept between steps, a :class:`WorkArrays` bundle per (owner, batch size): the first step of
    a batch size allocates them, every later one writes into the same arrays. Values cached in them (a
    layer's ``a``, ``z``, ``delta``) are overwritten by the next step that uses the workspace."""

    def __init__(self):
        self.arrays: dict = {}

    def bundle(self, owner, n_rows: int, make) -> WorkArrays:
        """The kept :class:`WorkArrays` of ``owner`` for batches of ``n_rows`` rows, made by ``make(n_rows)``
        the first time: one lookup per layer and step instead of one per array."""
        key = (id(owner), n_rows)
        found = self.arrays.get(key)
        if found is None:
            found = self.arrays[key] = make(n_rows)
        return found

    def clear(self) -> None:
        """Drop every work array (they are made again at the next step)."""
        self.arrays.clear()

    @property
    def nbytes(self) -> int:
        """Bytes held by the work arrays."""
        return sum(int(a.nbytes) for a in self.arrays.values())


def _nbytes(value) -> int:
    """Bytes of an array, or of the arrays of a dict of them (None: 0)."""
    if value is None:
        return 0
    return sum(_nbytes(v) for v in value.values()) if isinstance(value, dict) else int(value.nbytes)


def _host(array) -> np.ndarray:
    get = getattr(array, "get", None)
    return np.asarray(array) if get is None else get()
