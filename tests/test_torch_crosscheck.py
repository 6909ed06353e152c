"""Backpropagation against PyTorch's autograd, where PyTorch is installed (an optional, independent check)."""
import itertools

import numpy as np
import pytest

from test_gradients import HIDDEN, PAIRS, backprop, make_problem

torch = pytest.importorskip("torch", reason="PyTorch is an optional cross-check; the autograd tests above always run")


@pytest.mark.parametrize("hidden,pair", list(itertools.product(HIDDEN, PAIRS)))
def test_backprop_matches_pytorch(hidden, pair):
    cost, output = pair
    net, x, y = make_problem(hidden, cost, output, 3, seed=HIDDEN.index(hidden) + 11)
    grads = backprop(net, x, y)
    params = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in net.get_weights()]
    act = {"identity": lambda a: a, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
           "leaky_relu": lambda a: torch.nn.functional.leaky_relu(a, 0.01), "softplus": torch.nn.functional.softplus,
           "softmax": lambda a: torch.softmax(a, dim=1)}
    z = torch.tensor(x)
    for index, layer in enumerate(net.layers):
        z = act[layer.activation.name](z @ params[2 * index] + params[2 * index + 1])
    t = torch.tensor(y)
    value = {"quadratic": lambda: 0.5 * ((z - t) ** 2).sum() / len(t),
             "binary_cross_entropy": lambda: -(t * torch.log(z) + (1 - t) * torch.log(1 - z)).sum() / len(t),
             "cross_entropy": lambda: -(t * torch.log(z)).sum() / len(t)}[cost]()
    value.backward()
    for mine, p in zip(grads, params):
        np.testing.assert_allclose(mine, p.grad.numpy(), rtol=1e-10, atol=1e-14)
