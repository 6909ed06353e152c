"""Cost functions C(ŷ, y), value and gradient side by side.

Convention: every cost is the **mean over samples** of a per-sample cost that is **summed over outputs**.
With sample weights w the mean becomes the weighted mean Σ_i w_i c_i / Σ_i w_i.
So for n samples with k outputs

    quadratic              C = (1/n) Σ_i ½ ‖ŷ_i − y_i‖²
    binary cross-entropy   C = −(1/n) Σ_i Σ_k [y_ik log ŷ_ik + (1 − y_ik) log(1 − ŷ_ik)]
    cross-entropy          C = −(1/n) Σ_i Σ_k y_ik log ŷ_ik

``gradient`` returns dC/dŷ of that mean (so it already carries the 1/n). Shapes:
``y_pred, y: (n_samples, n_outputs) -> value: float, gradient: (n_samples, n_outputs)``.

**Matched pairs.** For sigmoid + binary cross-entropy, softmax + cross-entropy and identity + quadratic
the chain rule collapses: the output delta dC/da_L is simply (ŷ − y)/n. For sigmoid + BCE,
dC/dŷ = (ŷ − y)/(ŷ(1 − ŷ)) and f'(a) = ŷ(1 − ŷ), so the product is ŷ − y; for softmax + CE the Jacobian sum
gives ŷ_j Σ_k y_k − y_j = ŷ_j − y_j when each row of y sums to 1; for identity + quadratic f' = 1.
The fused forms are computed directly, from the output layer's weighted sum ``a`` (log-sum-exp, no log(0)).
"""
from __future__ import annotations

import numpy as np

from .activations import Activation, Identity, Sigmoid, Softmax
from .backend import namespace_of, row_max, row_sum
from .errors import ConfigError
from .registry import Registry


class Cost:
    """Base class: ``value`` and ``gradient`` of the mean per-sample cost, plus the fused forms."""

    name = "cost"
    #: True when ŷ must be a probability (outputs in [0, 1])
    needs_probabilities = False
    #: the output activation with which the delta fuses to (ŷ − y)/n
    fused_activation: type | None = None
    formula = ""

    def per_sample(self, y_pred, y):
        """The cost of each sample, summed over outputs: ``(n_samples,)``."""
        raise NotImplementedError

    def value(self, y_pred, y) -> float:
        """The mean over samples of :meth:`per_sample`."""
        return float(self.per_sample(y_pred, y).sum() / y.shape[0])

    def gradient(self, y_pred, y):
        """dC/dŷ of the mean cost, ``(n_samples, n_outputs)``: it already carries the 1/n."""
        raise NotImplementedError

    def fuses_with(self, activation: Activation) -> bool:
        """True when this cost and the output ``activation`` form a matched pair, whose output delta is (ŷ − y)/n."""
        return self.fused_activation is not None and type(activation) is self.fused_activation

    def fused_per_sample(self, a, y):
        """Per-sample costs computed from the output layer's weighted sums ``a`` (only for the matched pair)."""
        return self.per_sample(self.fused_activation().forward(a), y)

    def fused_value(self, a, y) -> float:
        """The cost computed from the output layer's weighted sums ``a`` (only for the matched pair)."""
        return float(self.fused_per_sample(a, y).sum() / y.shape[0])

    def fused_delta(self, y_pred, y, out=None):
        """The matched pair's output delta dC/da_L = (ŷ − y)/n, ``(n_samples, n_outputs)``, written into ``out``
        if given."""
        # delta_L = dC/da_L = (ŷ − y) / n   for the matched pair (see the module docstring)
        delta = namespace_of(y_pred).subtract(y_pred, y, out=out)
        delta *= 1.0 / y.shape[0]
        return delta

    def check_output(self, activation: Activation) -> None:
        """Refuse an output activation whose range this cost cannot take (e.g. log of a negative)."""
        low, high = activation.output_range
        if self.needs_probabilities and (low < 0.0 or high > 1.0):
            raise ConfigError(
                f"cost {self.name!r} needs outputs in [0, 1], but output activation {activation.name!r} "
                f"gives values in [{low}, {high}]; use 'sigmoid' or 'softmax' as the output activation"
            )

    def get_config(self) -> dict:
        """``{"name": ...}``; ``get_cost`` rebuilds the cost from it."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "Cost":
        """The cost a :meth:`get_config` dict describes (through the registry)."""
        return COSTS.get(config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


COSTS = Registry("cost", Cost)


@COSTS.register("quadratic")
class Quadratic(Cost):
    """C = (1/n) Σ_i ½ ‖ŷ_i − y_i‖² (the mean squared error, halved, summed over outputs); dC/dŷ = (ŷ − y)/n."""

    name = "quadratic"
    fused_activation = Identity
    formula = "C = (1/n) Σ ½ (ŷ − y)²"

    def per_sample(self, y_pred, y):
        diff = y_pred - y
        return 0.5 * row_sum(diff * diff)[:, 0]

    def gradient(self, y_pred, y):
        """dC/dŷ = (ŷ − y)/n."""
        return (y_pred - y) / y.shape[0]


COSTS.register("mse", Quadratic, alias=True)


def _clipped_log(xp, p):
    """log(p) with p kept above the smallest positive normal number, so no log(0) = -inf."""
    return xp.log(xp.maximum(p, np.finfo(p.dtype).tiny))


@COSTS.register("binary_cross_entropy")
class BinaryCrossEntropy(Cost):
    """C = −(1/n) Σ_i Σ_k [y log ŷ + (1 − y) log(1 − ŷ)] (the cost of logistic regression, seed 003).

    dC/dŷ = (ŷ − y) / (ŷ (1 − ŷ)) / n. With a sigmoid output it is computed from the weighted sum a as
    (1/n) Σ [softplus(a) − y a], which is exact and never takes log(0).
    """

    name = "binary_cross_entropy"
    needs_probabilities = True
    fused_activation = Sigmoid
    formula = "C = −(1/n) Σ [y log ŷ + (1 − y) log(1 − ŷ)]"

    def per_sample(self, y_pred, y):
        xp = namespace_of(y_pred)
        per = y * _clipped_log(xp, y_pred) + (1.0 - y) * _clipped_log(xp, 1.0 - y_pred)
        return -row_sum(per)[:, 0]

    def gradient(self, y_pred, y):
        """dC/dŷ = (ŷ − y) / (ŷ (1 − ŷ)) / n, with ŷ(1 − ŷ) kept above the smallest normal number."""
        xp = namespace_of(y_pred)
        tiny = np.finfo(y_pred.dtype).tiny
        denominator = xp.maximum(y_pred * (1.0 - y_pred), tiny)
        return (y_pred - y) / denominator / y.shape[0]

    def fused_per_sample(self, a, y):
        xp = namespace_of(a)
        # −[y log σ(a) + (1−y) log(1−σ(a))] = softplus(a) − y·a,  softplus(a) = max(a,0) + log1p(e^−|a|)
        softplus = xp.maximum(a, 0) + xp.log1p(xp.exp(-xp.abs(a)))
        return row_sum(softplus - y * a)[:, 0]


COSTS.register("bce", BinaryCrossEntropy, alias=True)


@COSTS.register("cross_entropy")
class CrossEntropy(Cost):
    """C = −(1/n) Σ_i Σ_k y_ik log ŷ_ik (categorical cross-entropy); dC/dŷ = −y / ŷ / n.

    With a softmax output it is computed from the weighted sums a as (1/n) Σ_i Σ_k y_ik (LSE(a_i) − a_ik),
    where LSE is the log-sum-exp, so it is exact and never takes log(0).
    """

    name = "cross_entropy"
    needs_probabilities = True
    fused_activation = Softmax
    formula = "C = −(1/n) Σ y log ŷ"

    def per_sample(self, y_pred, y):
        xp = namespace_of(y_pred)
        return -row_sum(y * _clipped_log(xp, y_pred))[:, 0]

    def gradient(self, y_pred, y):
        """dC/dŷ = −y / ŷ / n, with ŷ kept above the smallest normal number."""
        xp = namespace_of(y_pred)
        return -y / xp.maximum(y_pred, np.finfo(y_pred.dtype).tiny) / y.shape[0]

    def fused_per_sample(self, a, y):
        xp = namespace_of(a)
        top = row_max(a)
        log_sum_exp = top + xp.log(row_sum(xp.exp(a - top)))
        # −log softmax(a)_k = LSE(a) − a_k
        return row_sum(y * (log_sum_exp - a))[:, 0]

    def fused_delta(self, y_pred, y, out=None):
        # delta_L = (ŷ Σ_k y_k − y)/n, which is (ŷ − y)/n when each row of y sums to 1 (one-hot or soft labels)
        """Softmax + cross-entropy: dC/da_L = (ŷ Σ_k y_k − y)/n, which is (ŷ − y)/n when each row of y sums to 1."""
        xp = namespace_of(y_pred)
        delta = xp.multiply(y_pred, row_sum(y), out=out)
        delta -= y
        delta *= 1.0 / y.shape[0]
        return delta


COSTS.register("categorical_cross_entropy", CrossEntropy, alias=True)
COSTS.register("ce", CrossEntropy, alias=True)


def get_cost(spec) -> Cost:
    """A :class:`Cost` from a name, a config dict or an instance."""
    return COSTS.get(spec)


def default_cost_for(output: Activation) -> Cost:
    """The cost that matches an output activation: softmax -> cross_entropy, sigmoid -> BCE, else quadratic."""
    if isinstance(output, Softmax):
        return CrossEntropy()
    if isinstance(output, Sigmoid):
        return BinaryCrossEntropy()
    return Quadratic()
