"""The glass box (glass-box floor): every number of one training step, as a worked example.

``StepTrace(network, x, y, learning_rate)`` runs the engine's own forward and backward pass once and
records, per layer, the inputs, weighted sums ``a``, activations ``z``, deltas, gradients and the plain
gradient-descent update ``w := w − α ∂C/∂w``; then the cost after the update on the same input. It reads
the values the engine cached — it never recomputes the math its own way.

Bias is shown both ways the seeds use: as a unit fixed at 1 (x0, z0) whose weight is b, and as a vector b.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .backend import to_numpy
from .document import Document, fmt
from .constraints import check
from .network import Network

#: networks larger than this (weights) or wider than MAX_WIDTH units are summarised, not dumped
MAX_DETAILED_WEIGHTS = 200
MAX_WIDTH = 12
MAX_SAMPLES_SHOWN = 4


@dataclass
class LayerRecord:
    """One layer's numbers in the step. Arrays are numpy copies; shapes as in :class:`glassnet.Dense`."""

    index: int            # 1-based layer number
    activation: str
    x: np.ndarray         # input z_{l−1}: (n_samples, n_in)
    W: np.ndarray         # before the update: (n_in, n_out)
    b: np.ndarray         # (n_out,)
    a: np.ndarray         # weighted sums: (n_samples, n_out)
    z: np.ndarray         # activations: (n_samples, n_out)
    grad_z: np.ndarray    # dC/dz arriving from above: (n_samples, n_out)
    fprime: np.ndarray | None  # f'(a), element-wise activations only
    delta: np.ndarray     # dC/da: (n_samples, n_out)
    grad_W: np.ndarray    # (n_in, n_out)
    grad_b: np.ndarray    # (n_out,)
    W_new: np.ndarray
    b_new: np.ndarray


@dataclass
class Dial:
    """One weight or bias seen as a dial (seed 000): which way to turn it, and by how much."""

    name: str
    layer: int
    kind: str             # "W" or "b"
    index: tuple
    value: float
    gradient: float
    step: float           # −α ∂C/∂w: the turn gradient descent makes

    @property
    def direction(self) -> str:
        """``"turn up"``, ``"turn down"`` or ``"leave"``: the sign of the step −α ∂C/∂w."""
        return "turn up" if self.step > 0 else "turn down" if self.step < 0 else "leave"


class StepTrace:
    """Every number of one gradient-descent step on (x, y) with learning rate α.

    ``apply=True`` also applies the update to ``network``; by default the network is left unchanged.
    """

    def __init__(self, network, x, y, learning_rate: float = 0.1, apply: bool = False):
        self.learning_rate = check("learning_rate", learning_rate)
        self.before = network.copy()
        xs, ys = network.check_xy(x, y)
        self.x, self.y = to_numpy(xs).copy(), to_numpy(ys).copy()
        self.cost_before = network.loss_and_grad(xs, ys, checked=True)  # the engine's own step
        self.cost_name, self.cost_formula = network.cost.name, network.cost.formula
        self.fused = network.uses_fused_delta
        self.l2 = network.l2
        self.layers = self._record(network)
        self.after = self.before.copy()
        self.after.set_weights([p for r in self.layers for p in (r.W_new, r.b_new)])
        self.cost_after = self.after.loss(self.x, self.y)
        if apply:
            network.set_weights(self.after.get_weights())
        self.names = UnitNames(network.sizes)

    def _record(self, network) -> list[LayerRecord]:
        records = []
        cost, layers = network.cost, network.layers
        for index, layer in enumerate(layers):
            a, z = to_numpy(layer.a).copy(), to_numpy(layer.z).copy()
            if index == len(layers) - 1:
                grad_z = to_numpy(cost.gradient(layer.z, network.check_y(self.y, a.shape[0]))).copy()
            else:
                above = layers[index + 1]
                grad_z = to_numpy(above.delta @ above.W.T).copy()  # dC/dz_l = delta_{l+1} @ W_{l+1}.T
            fprime = to_numpy(layer.activation.derivative(layer.a, layer.z)).copy() \
                if layer.activation.elementwise else None
            grad_W, grad_b = to_numpy(layer.grad_W).copy(), to_numpy(layer.grad_b).copy()
            W, b = to_numpy(layer.W).copy(), to_numpy(layer.b).copy()
            records.append(LayerRecord(
                index=index + 1, activation=layer.activation.name, x=to_numpy(layer.x).copy(), W=W, b=b,
                a=a, z=z, grad_z=grad_z, fprime=fprime, delta=to_numpy(layer.delta).copy(),
                grad_W=grad_W, grad_b=grad_b,
                W_new=W - self.learning_rate * grad_W,  # w := w − α ∂C/∂w
                b_new=b - self.learning_rate * grad_b,
            ))
        return records

    # ---- sizes -------------------------------------------------------------------------------------
    @property
    def n_samples(self) -> int:
        """The number of samples in the traced batch."""
        return self.x.shape[0]

    @property
    def detailed(self) -> bool:
        """True when the network is small enough to write every number out (else a per-layer summary)."""
        sizes = self.names.sizes
        return sum(r.W.size for r in self.layers) <= MAX_DETAILED_WEIGHTS and max(sizes) <= MAX_WIDTH

    # ---- dials -------------------------------------------------------------------------------------
    def dials(self, top: int | None = 10) -> list[Dial]:
        """Weights and biases ranked by |∂C/∂w|, largest first."""
        return rank_dials(self.layers, self.names, self.learning_rate, top)

    def turn_dial(self, dial: Dial, amount: float = 1e-4) -> dict:
        """Seed 000's experiment: turn one dial by ``amount`` and watch the cost.

        Returns the cost before and after, the observed slope ΔC/Δw, and the chain-rule answer ∂C/∂w.
        """
        network = self.before.copy()
        layer = network.layers[dial.layer - 1]
        target = layer.W if dial.kind == "W" else layer.b
        cost_before = network.loss(self.x, self.y)
        target[dial.index] += amount
        cost_after = network.loss(self.x, self.y)
        target[dial.index] -= 2 * amount
        cost_below = network.loss(self.x, self.y)
        return {"name": dial.name, "amount": amount, "cost_before": cost_before, "cost_after": cost_after,
                "observed_slope": (cost_after - cost_before) / amount,
                "central_slope": (cost_after - cost_below) / (2 * amount), "chain_rule": dial.gradient}

    # ---- documents ---------------------------------------------------------------------------------
    def document(self) -> Document:
        """The trace as a :class:`~glassnet.document.Document`: forward, cost, backward, updates, dials, result."""
        doc = Document()
        doc.heading(f"One gradient-descent step: {self.before!r}", 1)
        doc.text(f"{self.n_samples} sample(s), learning rate α = {fmt(self.learning_rate)}, cost "
                 f"{self.cost_name}: {self.cost_formula}" + (f" + ({fmt(self.l2)}/2) Σ‖W‖²" if self.l2 else ""))
        if self.detailed:
            self._forward_blocks(doc)
            self._cost_block(doc)
            self._backward_blocks(doc)
            self._update_blocks(doc)
        else:
            self._summary_blocks(doc)
        self._dials_block(doc)
        self._result_block(doc)
        return doc

    def to_text(self) -> str:
        """The trace as plain text."""
        return self.document().to_text()

    def to_markdown(self) -> str:
        """The trace as Markdown."""
        return self.document().to_markdown()

    def to_html(self) -> str:
        """The trace as an HTML fragment."""
        return self.document().to_html()

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return self.to_text()

    def _samples(self):
        shown = range(min(self.n_samples, MAX_SAMPLES_SHOWN))
        for s in shown:
            yield s, (f"sample {s + 1}: " if self.n_samples > 1 else "")
        if self.n_samples > MAX_SAMPLES_SHOWN:
            yield None, f"... {self.n_samples - MAX_SAMPLES_SHOWN} more samples not shown"

    def _forward_blocks(self, doc: Document) -> None:
        doc.heading("Forward pass: weighted sums a = Σ w·input (bias unit = 1), then z = f(a)")
        for r in self.layers:
            lines = []
            for s, prefix in self._samples():
                if s is None:
                    lines.append(prefix)
                    continue
                inputs = [1.0] + list(r.x[s])
                for j in range(r.W.shape[1]):
                    weights = [r.b[j]] + list(r.W[:, j])
                    unit = self.names.unit(r.index, j + 1)
                    symbols = " + ".join(f"{self.names.weight(r.index, i, j + 1)}·{self.names.unit(r.index - 1, i)}"
                                         for i in range(len(inputs)))
                    numbers = " + ".join(f"{fmt(w)}·{fmt(v)}" for w, v in zip(weights, inputs))
                    lines.append(f"{prefix}a({unit}) = {symbols}")
                    lines.append(f"{' ' * len(prefix)}{' ' * (len(unit) + 3)} = {numbers} = {fmt(r.a[s, j])}")
                    lines.append(f"{' ' * len(prefix)}{unit} = {r.activation}({fmt(r.a[s, j])}) = {fmt(r.z[s, j])}")
            doc.heading(f"Layer {r.index} ({r.activation})", 3).lines(lines)

    def _cost_block(self, doc: Document) -> None:
        last = self.layers[-1]
        lines = [f"{self.cost_formula}"]
        for s, prefix in self._samples():
            if s is None:
                lines.append(prefix)
                continue
            pairs = ", ".join(f"ŷ = {fmt(p)} vs y = {fmt(t)}" for p, t in zip(last.z[s], self.y[s]))
            lines.append(f"{prefix}{pairs}")
        lines.append(f"C = {fmt(self.cost_before, 10)}")
        doc.heading("Cost").lines(lines)

    def _backward_blocks(self, doc: Document) -> None:
        doc.heading("Backward pass: deltas δ = ∂C/∂a by the chain rule, output first")
        for r in reversed(self.layers):
            lines = []
            above = self.layers[r.index] if r.index < len(self.layers) else None
            for s, prefix in self._samples():
                if s is None:
                    lines.append(prefix)
                    continue
                for j in range(r.W.shape[1]):
                    lines.append(prefix + self._delta_line(r, above, s, j))
            doc.heading(f"Layer {r.index} ({r.activation})", 3).lines(lines)

    def _delta_line(self, r: LayerRecord, above: LayerRecord | None, s: int, j: int) -> str:
        unit, delta = self.names.unit(r.index, j + 1), r.delta[s, j]
        if above is None and self.fused:
            y, n = self.y[s, j], self.n_samples
            return (f"δ({unit}) = (ŷ − y)/n = ({fmt(r.z[s, j])} − {fmt(y)})/{n} = {fmt(delta)}"
                    f"   [{r.activation} + {self.cost_name}: f'(a) cancels]")
        if above is None:
            head = f"δ({unit}) = ∂C/∂ŷ · f'(a) = {fmt(r.grad_z[s, j])}"
        else:
            terms = " + ".join(f"{fmt(above.W[j, k])}·{fmt(above.delta[s, k])}" for k in range(above.W.shape[1]))
            head = f"δ({unit}) = f'(a) · Σ w·δ_next = f'({fmt(r.a[s, j])}) · ({terms}) = "
            head += f"f'(a) · {fmt(r.grad_z[s, j])}" if r.fprime is None else \
                f"{fmt(r.fprime[s, j])} · {fmt(r.grad_z[s, j])}"
        if r.fprime is None:
            return f"{head} → δ = {fmt(delta)}   [{r.activation} couples the units: δ = z ⊙ (g − Σ g·z)]"
        return f"{head} · {fmt(r.fprime[s, j])} = {fmt(delta)}" if above is None else f"{head} = {fmt(delta)}"

    def _update_blocks(self, doc: Document) -> None:
        doc.heading(f"Gradients ∂C/∂w = Σ input·δ and updates w := w − α·∂C/∂w (α = {fmt(self.learning_rate)})")
        n_shown = min(self.n_samples, MAX_SAMPLES_SHOWN)
        for r in self.layers:
            lines = []
            inputs = np.hstack([np.ones((self.n_samples, 1)), r.x])
            for j in range(r.W.shape[1]):
                for i in range(inputs.shape[1]):
                    grad = r.grad_b[j] if i == 0 else r.grad_W[i - 1, j]
                    old = r.b[j] if i == 0 else r.W[i - 1, j]
                    new = r.b_new[j] if i == 0 else r.W_new[i - 1, j]
                    terms = " + ".join(f"{fmt(inputs[s, i])}·{fmt(r.delta[s, j])}" for s in range(n_shown))
                    if self.n_samples > n_shown:
                        terms += " + …"
                    penalty = f" + {fmt(self.l2)}·{fmt(old)}" if self.l2 and i > 0 else ""
                    lines.append(f"∂C/∂{self.names.weight(r.index, i, j + 1)} = {terms}{penalty} = {fmt(grad)};"
                                 f"  {fmt(old)} − {fmt(self.learning_rate)}·{fmt(grad)} = {fmt(new)}")
            # the same biases written as a vector b (the weights of the bias unit above)
            lines.append(f"as a vector: b{r.index} = {_vector(r.b)} − {fmt(self.learning_rate)}·{_vector(r.grad_b)}"
                         f" = {_vector(r.b_new)}")
            doc.heading(f"Layer {r.index}", 3).lines(lines)

    def _summary_blocks(self, doc: Document) -> None:
        doc.text("This network is too large to write out unit by unit; each layer is summarised, and the "
                 "dials below list the weights with the largest gradients.")
        rows = []
        for r in self.layers:
            rows.append([r.index, f"{r.W.shape[0]} -> {r.W.shape[1]}", r.activation, f"{r.W.size:,}",
                         r.b.size, _range(r.a), _range(r.z), _range(r.delta),
                         fmt(np.abs(r.grad_W).max()), fmt(np.linalg.norm(r.W_new - r.W))])
        doc.table(["layer", "shape", "f", "weights", "biases", "a (min..max)", "z (min..max)",
                   "δ (min..max)", "max |∂C/∂w|", "‖ΔW‖"], rows)
        doc.lines([f"C = {fmt(self.cost_before, 10)}"])

    def _dials_block(self, doc: Document, top: int = 8) -> None:
        dials = self.dials(top)
        doc.heading("Dials: the weights whose turn changes the cost most (largest |∂C/∂w| first)")
        doc.table(["dial", "value", "∂C/∂w", "direction", "turn by −α·∂C/∂w", "new value"],
                  [[d.name, fmt(d.value), fmt(d.gradient), d.direction, fmt(d.step), fmt(d.value + d.step)]
                   for d in dials])
        if dials and dials[0].gradient != 0:
            e = self.turn_dial(dials[0], 1e-5)
            doc.lines([f"Experiment: turn {e['name']} up by {fmt(e['amount'])} and watch the cost:",
                       f"  C = {fmt(e['cost_before'], 12)} → {fmt(e['cost_after'], 12)};  ΔC/Δw = "
                       f"{fmt(e['observed_slope'], 8)};  the chain rule says ∂C/∂w = {fmt(e['chain_rule'], 8)}"])

    def _result_block(self, doc: Document) -> None:
        went = "went down" if self.cost_after < self.cost_before else "did NOT go down (learning rate too large?)"
        doc.heading("After the step")
        doc.lines([f"cost on the same input: {fmt(self.cost_before, 10)} → {fmt(self.cost_after, 10)} ({went})"])


def rank_dials(layers, names: "UnitNames", learning_rate: float, top: int | None = 10) -> list[Dial]:
    """Every weight and bias of ``layers`` (anything with W, b, grad_W, grad_b: trace records or live Dense
    layers) ranked by |∂C/∂w|, largest first; ties keep layer order, weights before biases."""
    found = []
    for number, layer in enumerate(layers, start=1):
        grads = np.concatenate([np.asarray(layer.grad_W).ravel(), np.asarray(layer.grad_b).ravel()])
        keep = np.arange(grads.size)
        if top is not None and grads.size > top:  # only this layer's own top candidates can make the list
            keep = np.sort(np.argsort(-np.abs(grads), kind="stable")[:top])
        n_weights = layer.W.size
        for position in keep.tolist():
            if position < n_weights:
                i, j = divmod(position, layer.W.shape[1])
                name, kind, index, value = names.weight(number, i + 1, j + 1), "W", (i, j), layer.W[i, j]
            else:
                j = position - n_weights
                name, kind, index, value = names.weight(number, 0, j + 1), "b", (j,), layer.b[j]
            gradient = float(grads[position])
            found.append(Dial(name, number, kind, index, float(value), gradient, -learning_rate * gradient))
    found.sort(key=lambda d: -abs(d.gradient))
    return found if top is None else found[:top]


def _vector(array) -> str:
    return "[" + ", ".join(fmt(v) for v in array) + "]"


def _range(array) -> str:
    return f"{fmt(array.min(), 3)}..{fmt(array.max(), 3)}"


class UnitNames:
    """Seed 003's names, numbered from 1 as in the seeds: inputs x1, x2, ...; hidden units z1, z2, ...
    (z<layer>_<j> with several hidden layers); outputs ŷ (ŷ1, ŷ2, ... for several). The bias is a unit fixed
    at 1, named as a bias: x0 and z0 as in seed 003, z<layer>_bias with several hidden layers."""

    def __init__(self, sizes):
        self.sizes = list(sizes)
        self.n_layers = len(sizes) - 1

    def unit(self, layer: int, j: int) -> str:
        """Name of unit j of ``layer`` (0: inputs x, last: ŷ, else z), with j = 0 the bias unit."""
        if layer == 0:
            return f"x{j}"
        if layer == self.n_layers:
            if j == 0:
                return "z0"
            return "ŷ" if self.sizes[-1] == 1 else f"ŷ{j}"
        return f"z{j}" if self.n_layers == 2 else f"z{layer}_{j}"

    def weight(self, layer: int, i: int, j: int) -> str:
        """Name of the weight into unit j of ``layer`` from unit i of the layer below (i = 0: the bias unit)."""
        below = self.unit(layer - 1, i) if layer > 1 or i else "x0"
        if layer > 1 and i == 0:
            below = "z0" if self.n_layers == 2 else f"z{layer - 1}_bias"
        return f"w({below}→{self.unit(layer, j)})"


def trace(network, x, y, learning_rate: float = 0.1, apply: bool = False) -> StepTrace:
    """Record every number of one gradient-descent step; see :class:`StepTrace`."""
    return StepTrace(network, x, y, learning_rate, apply)


Network.provide("trace", trace)
