"""Cost functions C(ŷ, y), value and gradient side by side (math floor).

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

**Every accepted pair is computed from ``a``.** The network asks the cost for :meth:`Cost.output_per_sample`
and :meth:`Cost.output_delta` (dC/da of the output layer). Besides the matched pairs, the two unmatched
probability pairs have closed forms in ``a`` that stay exact when the outputs saturate:

    sigmoid + cross-entropy          c = Σ_k y_k softplus(−a_k),              dC/da_k = −y_k σ(−a_k) / n
    softmax + binary cross-entropy   log p_k = a_k − LSE(a),  log(1 − p_k) = LSE_{j≠k}(a) − LSE(a)

(the second one's delta is written out in :meth:`BinaryCrossEntropy.output_delta`). They are well defined,
though rarely what a model wants: sigmoid + cross-entropy only rewards outputs whose target is positive (with
one-hot targets every output can drift to 1), softmax + BCE treats coupled probabilities as independent. Going through ŷ instead
loses them: 1 − ŷ rounds to 0 and log(0) is clipped. Every other pair (quadratic with any output) uses the
general chain rule dC/dŷ ⊙ f'(a), whose terms stay bounded. Values and deltas of every pair match high-precision (mpmath)
arithmetic at logits up to ±1000 in float64 and ±80 in float32 (tests/test_costs.py).
"""
from __future__ import annotations

import numpy as np

from .activations import Activation, Identity, Sigmoid, Softmax
from .backend import namespace_of, row_max, row_sum, sum_of_products, sum_of_squares, total
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
        return float(total(self.per_sample(y_pred, y)) / y.shape[0])

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
        return float(total(self.fused_per_sample(a, y)) / y.shape[0])

    def fused_delta(self, y_pred, y, out=None):
        """The matched pair's output delta dC/da_L = (ŷ − y)/n, ``(n_samples, n_outputs)``, written into ``out``
        if given."""
        # delta_L = dC/da_L = (ŷ − y) / n   for the matched pair (see the module docstring)
        delta = namespace_of(y_pred).subtract(y_pred, y, out=out)
        delta *= 1.0 / y.shape[0]
        return delta

    def output_per_sample(self, activation: Activation, a, z, y):
        """Per-sample costs of the output layer, weighted sums ``a`` and outputs ``z = f(a)``: ``(n_samples,)``."""
        return self.fused_per_sample(a, y) if self.fuses_with(activation) else self.per_sample(z, y)

    def output_total(self, activation: Activation, a, z, y) -> float:
        """Σ over samples of :meth:`output_per_sample`, as a Python float (the training step's cost is this
        over n); matched pairs override it with fewer array passes."""
        return float(total(self.output_per_sample(activation, a, z, y)))

    def output_delta(self, activation: Activation, a, z, y, out=None):
        """The output layer's delta dC/da ``(n_samples, n_outputs)``; written into ``out`` when given."""
        if self.fuses_with(activation):
            return self.fused_delta(z, y, out=out)
        # delta_L = dC/dŷ ⊙ f'(a_L)   (general chain rule)
        return activation.backward(self.gradient(z, y), a, z, out=out)

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

    def output_total(self, activation, a, z, y) -> float:
        # Σ_i ½‖ŷ_i − y_i‖² = ½ ‖ŷ − y‖² over the whole batch: one subtraction and one dot product
        diff = z - y
        return 0.5 * sum_of_squares(diff)


COSTS.register("mse", Quadratic, alias=True)


def _clipped_log(xp, p):
    """log(p) with p kept above the smallest positive normal number, so no log(0) = -inf."""
    return xp.log(xp.maximum(p, xp.finfo(p.dtype).smallest_normal))


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
        tiny = xp.finfo(y_pred.dtype).smallest_normal
        denominator = xp.maximum(y_pred * (1.0 - y_pred), tiny)
        return (y_pred - y) / denominator / y.shape[0]

    def fused_per_sample(self, a, y):
        xp = namespace_of(a)
        # −[y log σ(a) + (1−y) log(1−σ(a))] = softplus(a) − y·a,  softplus(a) = max(a,0) + log1p(e^−|a|)
        softplus = xp.maximum(a, 0) + xp.log1p(xp.exp(-xp.abs(a)))
        return row_sum(softplus - y * a)[:, 0]

    def output_total(self, activation, a, z, y) -> float:
        if not self.fuses_with(activation) or type(a) is not np.ndarray:
            return super().output_total(activation, a, z, y)
        # Σ [softplus(a) − y a] = Σ logaddexp(0, a) − Σ y a: numpy's logaddexp is max(a, 0) + log1p(e^−|a|)
        return float(np.logaddexp(0.0, a).sum()) - sum_of_products(y, a)

    def output_per_sample(self, activation, a, z, y):
        if not isinstance(activation, Softmax):
            return super().output_per_sample(activation, a, z, y)
        xp = namespace_of(a)
        log_p, log_not_p, _ = _softmax_logs(a)
        # −[y log p + (1 − y) log(1 − p)]; a term with weight 0 counts 0 even where its log is −inf
        per = xp.where(y == 0, 0, y * log_p) + xp.where(y == 1, 0, (1.0 - y) * log_not_p)
        return -row_sum(per)[:, 0]

    def output_delta(self, activation, a, z, y, out=None):
        if not isinstance(activation, Softmax):
            return super().output_delta(activation, a, z, y, out)
        # with p = softmax(a), s⁽ᵏ⁾ = softmax over every unit but k (so p_j p_k/(1 − p_k) = p_k s⁽ᵏ⁾_j):
        # dC/da_j = [−y_j (1 − p_j) + p_j (Σ_k y_k − y_j) + (1 − y_j) p_j − Σ_{k≠j} (1 − y_k) p_k s⁽ᵏ⁾_j] / n
        # each factor comes from the logs above, so nothing cancels to 0 at saturation
        xp = namespace_of(a)
        log_p, log_not_p, others = _softmax_logs(a)
        p, not_p = xp.exp(log_p), xp.exp(log_not_p)
        delta = p * (row_sum(y) - y) + (1.0 - y) * p - y * not_p
        delta -= xp.matmul(((1.0 - y) * p)[:, None, :], others)[:, 0, :]
        delta *= 1.0 / y.shape[0]
        if out is None:
            return delta
        out[...] = delta
        return out


def _softmax_logs(a):
    """For softmax outputs p = softmax(a) ``(n, k)``: log p, log(1 − p) and, per sample, the softmax over every
    unit but k as row k of a ``(n, k, k)`` array (0 on the diagonal), all from log-sum-exps of ``a``.

    log(1 − p_k) = LSE_{j≠k}(a) − LSE(a): exact even where p_k rounds to 1. Costs n·k² numbers.
    """
    xp = namespace_of(a)
    k = a.shape[1]
    left_out = xp.eye(k, dtype=bool)
    others = xp.where(left_out, -xp.inf, a[:, None, :])  # row k: the logits without unit k
    top = xp.max(others, axis=2, keepdims=True)
    top = xp.where(xp.isfinite(top), top, 0)  # one unit only: nothing is left, LSE of nothing is −inf
    with np.errstate(divide="ignore", invalid="ignore"):
        lse_others = top[:, :, 0] + xp.log(xp.sum(xp.exp(others - top), axis=2))
        lse = row_max(a) + xp.log(row_sum(xp.exp(a - row_max(a))))
        others = xp.where(left_out, 0, xp.exp(others - lse_others[:, :, None]))
    return a - lse, lse_others - lse, others


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
        return -y / xp.maximum(y_pred, xp.finfo(y_pred.dtype).smallest_normal) / y.shape[0]

    def fused_per_sample(self, a, y):
        xp = namespace_of(a)
        top = row_max(a)
        log_sum_exp = top + xp.log(row_sum(xp.exp(a - top)))
        # −log softmax(a)_k = LSE(a) − a_k
        return row_sum(y * (log_sum_exp - a))[:, 0]

    def output_total(self, activation, a, z, y) -> float:
        if not self.fuses_with(activation) or type(a) is not np.ndarray:
            return super().output_total(activation, a, z, y)
        # Σ_i Σ_k y_ik (LSE(a_i) − a_ik) = Σ_i (Σ_k y_ik) LSE(a_i) − Σ y a, with LSE(a_i) = m_i + log Σ_k e^(a_ik − m_i)
        top = row_max(a)
        shifted = np.subtract(a, top)
        np.exp(shifted, out=shifted)
        log_sum_exp = np.log(row_sum(shifted))
        log_sum_exp += top
        return sum_of_products(row_sum(y), log_sum_exp) - sum_of_products(y, a)

    def fused_delta(self, y_pred, y, out=None):
        # delta_L = (ŷ Σ_k y_k − y)/n, which is (ŷ − y)/n when each row of y sums to 1 (one-hot or soft labels)
        """Softmax + cross-entropy: dC/da_L = (ŷ Σ_k y_k − y)/n, which is (ŷ − y)/n when each row of y sums to 1."""
        xp = namespace_of(y_pred)
        delta = xp.multiply(y_pred, row_sum(y), out=out)
        delta -= y
        delta *= 1.0 / y.shape[0]
        return delta

    def output_per_sample(self, activation, a, z, y):
        if not isinstance(activation, Sigmoid):
            return super().output_per_sample(activation, a, z, y)
        xp = namespace_of(a)
        # −y log σ(a) = y softplus(−a),  softplus(−a) = max(−a, 0) + log1p(e^−|a|)
        softplus = xp.maximum(-a, 0) + xp.log1p(xp.exp(-xp.abs(a)))
        return row_sum(y * softplus)[:, 0]

    def output_delta(self, activation, a, z, y, out=None):
        if not isinstance(activation, Sigmoid):
            return super().output_delta(activation, a, z, y, out)
        # dC/da = −y σ'(a)/σ(a) / n = −y (1 − σ(a)) / n = −y σ(−a) / n
        delta = activation.forward(-a, out=out)
        delta *= y
        delta *= -1.0 / y.shape[0]
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
