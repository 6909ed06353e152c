"""Optimizers (learning floor), sorted in order of increasing complexity. Each updates parameters in place.

``step(groups, learning_rate)`` takes the parameter store's groups (:class:`~glassnet.params.ParameterGroup`:
all weights in one flat array, all biases in another, with their gradients). Weight decay (AdamW) applies to
the groups marked ``decay`` (the weights), never to biases. Each class's docstring states its update rule;
``_update`` is the fast in-place form of that rule and the tests check it against the rule written out.
"""
from __future__ import annotations

import math

from .backend import namespace_of
from .blas import axpy
from .constraints import check
from .registry import Registry


class Optimizer:
    """Base class: holds per-parameter state; subclasses implement ``_update`` for one parameter."""

    name = "optimizer"

    def __init__(self):
        self.state: list[dict] = []
        self.t = 0  # number of steps taken

    def step(self, groups, learning_rate: float) -> None:
        """One update of every group (``values``, ``grads``, ``decay``) with ``learning_rate``."""
        self.ensure_state(groups)
        self.t += 1
        for group, state in zip(groups, self.state):
            self._update(group.values, group.grads, state, learning_rate, group.decay)

    def ensure_state(self, groups) -> list[dict]:
        """The per-group state (momentum, moments), created (zero) on first use; ``scratch`` arrays in it
        are work space, not state."""
        if not self.state:
            self.state = [self._new_state(group.values) for group in groups]
        return self.state

    def _new_state(self, param) -> dict:
        return {}

    def _update(self, param, grad, state, learning_rate, decays) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget the state (velocities, moments) and the step count."""
        self.state, self.t = [], 0

    def get_config(self) -> dict:
        """``{"name": ...}`` plus the hyperparameters; ``get_optimizer`` rebuilds it."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "Optimizer":
        """The optimizer a :meth:`get_config` dict describes (through the registry)."""
        return OPTIMIZERS.get(config)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({params})"


OPTIMIZERS = Registry("optimizer", Optimizer)


@OPTIMIZERS.register("sgd")
class SGD(Optimizer):
    """Plain gradient descent:  ``w = w - learning_rate * g``."""

    name = "sgd"

    def _new_state(self, param):
        return {"scratch": param * 0}

    def _update(self, param, grad, state, learning_rate, decays):
        axpy(-learning_rate, grad, param, state["scratch"])  # w += (−lr) · g, one pass in BLAS


@OPTIMIZERS.register("momentum")
class Momentum(Optimizer):
    """Gradient descent with momentum (and Nesterov's look-ahead when ``nesterov=True``)::

        velocity = momentum * velocity - learning_rate * g
        w = w + velocity                                    # classical momentum
        w = w + momentum * velocity - learning_rate * g     # Nesterov
    """

    name = "momentum"

    def __init__(self, momentum: float = 0.9, nesterov: bool = False):
        super().__init__()
        self.momentum = check("momentum", momentum)
        self.nesterov = bool(nesterov)

    def _new_state(self, param):
        return {"velocity": param * 0, "scratch": param * 0}

    def _update(self, param, grad, state, learning_rate, decays):
        velocity, scratch = state["velocity"], state["scratch"]
        velocity *= self.momentum
        axpy(-learning_rate, grad, velocity, scratch)  # velocity = momentum · velocity − lr · g
        if self.nesterov:
            axpy(-learning_rate, grad, param, scratch)  # w += momentum · velocity − lr · g
            axpy(self.momentum, velocity, param, scratch)
        else:
            axpy(1.0, velocity, param, scratch)  # w += velocity

    def get_config(self):
        return {"name": self.name, "momentum": self.momentum, "nesterov": self.nesterov}


@OPTIMIZERS.register("nesterov")
class Nesterov(Momentum):
    """Momentum with Nesterov's look-ahead (see :class:`Momentum`)::

        velocity = momentum * velocity - learning_rate * g
        w = w + momentum * velocity - learning_rate * g
    """

    name = "nesterov"

    def __init__(self, momentum: float = 0.9):
        super().__init__(momentum, nesterov=True)

    def get_config(self):
        return {"name": self.name, "momentum": self.momentum}


@OPTIMIZERS.register("adam")
class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015, https://arxiv.org/abs/1412.6980), at step t = 1, 2, ...::

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g²
        m_hat = m / (1 - beta_1^t);  v_hat = v / (1 - beta_2^t)
        w = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)
    """

    name = "adam"

    def __init__(self, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8):
        super().__init__()
        self.beta_1 = check("beta_1", beta_1)
        self.beta_2 = check("beta_2", beta_2)
        self.epsilon = check("epsilon", epsilon)

    def _new_state(self, param):
        return {"m": param * 0, "v": param * 0, "scratch": param * 0}

    def _update(self, param, grad, state, learning_rate, decays):
        xp = namespace_of(param)
        m, v, scratch = state["m"], state["v"], state["scratch"]  # in place: a step allocates nothing
        m *= self.beta_1
        axpy(1.0 - self.beta_1, grad, m, scratch)  # m = beta_1 m + (1 − beta_1) g
        v *= self.beta_2
        xp.multiply(grad, grad, out=scratch)
        axpy(1.0 - self.beta_2, scratch, v, scratch)  # v = beta_2 v + (1 − beta_2) g²
        # fold both bias corrections into the step size: lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)
        # and epsilon_t = epsilon * sqrt(1 - b2^t), which is the rule above rearranged exactly
        correction_2 = math.sqrt(1.0 - self.beta_2 ** self.t)
        step_size = learning_rate * correction_2 / (1.0 - self.beta_1 ** self.t)
        xp.sqrt(v, out=scratch)
        scratch += self.epsilon * correction_2
        xp.divide(m, scratch, out=scratch)
        axpy(-step_size, scratch, param, scratch)  # w −= lr_t · m / (sqrt(v) + epsilon_t)

    def get_config(self):
        return {"name": self.name, "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


@OPTIMIZERS.register("adamw")
class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, https://arxiv.org/abs/1711.05101)::

        w = w - learning_rate * weight_decay * w          # weights only, not biases
        then the Adam update above
    """

    name = "adamw"

    def __init__(self, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8,
                 weight_decay: float = 0.01):
        super().__init__(beta_1, beta_2, epsilon)
        self.weight_decay = check("weight_decay", weight_decay)

    def _update(self, param, grad, state, learning_rate, decays):
        if decays and self.weight_decay:
            param *= 1.0 - learning_rate * self.weight_decay
        super()._update(param, grad, state, learning_rate, decays)

    def get_config(self):
        return {**super().get_config(), "weight_decay": self.weight_decay}


def get_optimizer(spec, **params) -> Optimizer:
    """An :class:`Optimizer` from a name, a config dict or an instance."""
    return OPTIMIZERS.get(spec, **params)
