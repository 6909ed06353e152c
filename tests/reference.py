"""Independent reference formulas for the tests, written directly from the textbook definitions with
``autograd.numpy`` so autograd can differentiate them. Nothing here imports glassnet's math."""
import autograd.numpy as anp

ACTIVATIONS = {
    "identity": lambda a: a,
    "sigmoid": lambda a: 1.0 / (1.0 + anp.exp(-a)),
    "tanh": anp.tanh,
    "relu": lambda a: anp.maximum(a, 0.0),
    "leaky_relu": lambda a: anp.where(a > 0, a, 0.01 * a),
    "softplus": lambda a: anp.log(1.0 + anp.exp(a)),
    "softmax": lambda a: anp.exp(a) / anp.sum(anp.exp(a), axis=1, keepdims=True),
}

COSTS = {
    "quadratic": lambda p, y: anp.sum(0.5 * (p - y) ** 2) / y.shape[0],
    "binary_cross_entropy": lambda p, y: -anp.sum(y * anp.log(p) + (1 - y) * anp.log(1 - p)) / y.shape[0],
    "cross_entropy": lambda p, y: -anp.sum(y * anp.log(p)) / y.shape[0],
}


def network_cost(params, x, y, activations, cost, l2=0.0):
    """C(params) for params = [W1, b1, W2, b2, ...], W of shape (n_in, n_out)."""
    z = x
    for index, act in enumerate(activations):
        W, b = params[2 * index], params[2 * index + 1]
        z = ACTIVATIONS[act](anp.dot(z, W) + b)
    penalty = sum(anp.sum(params[2 * i] ** 2) for i in range(len(activations)))
    return COSTS[cost](z, y) + 0.5 * l2 * penalty
