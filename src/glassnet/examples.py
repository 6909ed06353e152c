"""The seed articles' examples, run on the real engine and explained with their numbers (files floor).

``explain("xor-article")`` and ``explain("dog-breeds")`` return a :class:`~glassnet.document.Document`
(render it as text, Markdown or HTML). The command line runs them as ``glassnet explain NAME``.
"""
from __future__ import annotations

import numpy as np

from .datasets import xor
from .document import Document, fmt
from .errors import UnknownNameError
from .network import Network
from .trace import StepTrace


def xor_article_network() -> Network:
    """Seed 003's network: inputs x1, x2 and bias x0; hidden z1..z3 and bias z0; one output; identity
    activations; every weight (bias weights too) 1; quadratic cost."""
    return Network([2, 3, 1], activation="identity", weight_init=1.0, bias_init=1.0, cost="quadratic")


def _article_step_costs() -> dict:
    """The cost on sample (0, 0) after the article's step and after the correct one."""
    x, y = np.array([[0.0, 0.0]]), np.array([[0.0]])
    article = xor_article_network()
    # the article's update: W := W − α · z · (y − ŷ) = 1 − 0.1 · 1 · (−4) = 1.4 for EVERY weight
    article.set_weights([np.full_like(w, 1.4) for w in article.get_weights()])
    correct = xor_article_network()
    StepTrace(correct, x, y, 0.1, apply=True)
    return {"article": article.loss(x, y), "correct": correct.loss(x, y)}


def explain_xor_article() -> Document:
    """Seed 003's XOR step run on the engine: the forward pass, the deltas, the updates, the article's two
    mistakes shown with numbers, training on all four rows (ŷ settles at 0.5) and a tanh network that learns XOR.
    """
    X, y = xor()
    doc = Document()
    doc.heading("Seed 003's XOR example, run on glassnet", 1)
    doc.text("Inputs x1, x2 plus the bias unit x0 = 1; three hidden units z1..z3 plus the bias unit z0 = 1; one "
             "output ŷ. Identity activation f(a) = a, every weight 1, learning rate α = 0.1, first sample "
             "(0, 0) with target 0. The article names the logistic-regression cost, but with an identity output "
             "ŷ = 4 its log(1 − ŷ) = log(−3) does not exist; its own arithmetic (delta = error ŷ − y at the "
             "output) is that of the quadratic cost C = ½(ŷ − y)², so glassnet uses that.")
    step = StepTrace(xor_article_network(), X[:1], y[:1], 0.1)
    doc.extend(step.document())

    costs = _article_step_costs()
    doc.heading("Where the article's arithmetic differs, and why", 1)
    doc.text("1. The sign of the delta. The article takes the loss y − ŷ = 0 − 4 = −4 as the output delta and "
             "then subtracts α·z·delta, so every weight becomes 1 − 0.1·1·(−4) = 1.4. But ∂C/∂ŷ = ŷ − y = +4: "
             "y − ŷ is the negative gradient, and subtracting it moves every weight uphill.")
    doc.lines([
        "article: every weight 1.4 → hidden a = 1.4, ŷ = 1.4 + 3·1.4·1.4 = " + fmt(1.4 + 3 * 1.4 * 1.4),
        f"         C = ½·{fmt(1.4 + 3 * 1.4 * 1.4)}² = {fmt(costs['article'], 8)}   (up from 8)",
        "correct: bias weights and output weights 0.6 → hidden a = 0.6, ŷ = 0.6 + 3·0.6·0.6 = "
        + fmt(0.6 + 3 * 0.6 * 0.6),
        f"         C = ½·{fmt(0.6 + 3 * 0.6 * 0.6)}² = {fmt(costs['correct'], 8)}   (down from 8)",
    ])
    doc.text("2. Weights whose input is 0. ∂C/∂w = input · delta, and x1 = x2 = 0 on this sample, so the six "
             "weights w(x1→z·) and w(x2→z·) have gradient 0 and must stay exactly 1. The article moves them "
             "to 1.4 as well. (It also computes a delta for the bias unit z0, which has no incoming weights "
             "and so needs none.)")

    doc.heading("Training the article's setup on all four XOR rows", 1)
    net = xor_article_network()
    history = net.fit(X, y, epochs=1000, batch_size=None, learning_rate=0.1, shuffle=False)
    outputs = net.predict(X).ravel()
    W1 = net.layers[0].W
    doc.table(["x1", "x2", "target", "ŷ after 1000 epochs"],
              [[int(a), int(b), int(t), fmt(o, 8)] for (a, b), t, o in zip(X, y, outputs)])
    doc.text(f"The cost settles at {fmt(history.loss[-1], 8)} = ½·0.5², the best any straight line can do: a "
             "network of identity activations computes ŷ = x·W1·W2 + constants, a linear function, and the "
             "least-squares line through the XOR table is the constant 0.5. Equal initial weights make it "
             "worse still: the three hidden units start identical, get identical deltas, and stay identical "
             f"(after 1000 epochs the largest difference between their incoming weights is "
             f"{fmt(np.ptp(W1, axis=1).max())}), so the network behaves as if it had one hidden unit.")

    doc.heading("The fix: a nonlinear activation and random initial weights", 1)
    fixed = Network([2, 3, 1], activation="tanh", output="sigmoid", seed=1)
    fixed_history = fixed.fit(X, y, epochs=3000, batch_size=None, learning_rate=1.0, target_accuracy=1.0)
    fixed.fit(X, y, epochs=500, batch_size=None, learning_rate=1.0)
    probabilities = fixed.predict_proba(X).ravel()
    doc.table(["x1", "x2", "target", "P(1)", "answer"],
              [[int(a), int(b), int(t), fmt(p, 4), int(p > 0.5)] for (a, b), t, p in zip(X, y, probabilities)])
    doc.text(f"Same three hidden units, now tanh with Glorot-random initial weights, a sigmoid output and "
             f"binary cross-entropy: 100 % accuracy after {len(fixed_history)} epochs of batch gradient descent "
             f"(α = 1), and the probabilities sharpen with 500 more.")
    return doc


def explain_dog_breeds() -> Document:
    """Seed 000's 625-20-20-10 network: its 13,100 weights and 50 biases counted, and one step on a random image
    summarised per layer."""
    net = Network([625, 20, 20, 10], activation="sigmoid", output="softmax", seed=0)
    doc = Document()
    doc.heading("Seed 000's dog-breed classifier: 625-20-20-10", 1)
    doc.text(f"{net!r}. A 25×25 image gives 625 inputs; two hidden layers of 20 sigmoid units; 10 breeds.")
    counts = [layer.n_weights for layer in net.layers]
    doc.lines([f"weights: {' + '.join(f'{layer.n_in}·{layer.n_out}' for layer in net.layers)} = "
               f"{' + '.join(f'{c:,}' for c in counts)} = {net.n_weights:,}",
               f"biases:  {' + '.join(str(layer.n_out) for layer in net.layers)} = {net.n_biases}",
               f"dials to turn: {net.n_weights + net.n_biases:,}"])
    rng = np.random.default_rng(0)
    image, breed = rng.uniform(0, 1, (1, 625)), np.array([3])
    doc.text("One gradient-descent step on one random 25×25 image of breed 4 (class index 3; output "
             "units are numbered from 1 as in the seeds, so its unit is ŷ4), summarised:")
    doc.extend(StepTrace(net, image, breed, 0.5).document())
    return doc


EXAMPLES = {"xor-article": explain_xor_article, "dog-breeds": explain_dog_breeds}


def explain(name: str) -> Document:
    """The worked explanation of a seed example by name (see ``EXAMPLES``)."""
    try:
        return EXAMPLES[name]()
    except KeyError:
        raise UnknownNameError(f"unknown example {name!r}; valid examples are: {', '.join(EXAMPLES)}") from None
