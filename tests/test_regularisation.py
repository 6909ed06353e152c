"""L1 and L2 penalties on the weights: cost and gradient against PyTorch's autograd (an independent computation)."""
import numpy as np
import pytest

from glassnet import Network

torch = pytest.importorskip("torch", reason="PyTorch is the independent reference for the penalties")


def _problem(l1, l2):
    rng = np.random.default_rng(7)
    net = Network([3, 5, 4, 3], activation="tanh", output="softmax", l1=l1, l2=l2, seed=5)
    x = rng.normal(size=(6, 3))
    y = np.eye(3)[rng.integers(0, 3, 6)]
    return net, x, y


@pytest.mark.parametrize("l1,l2", [(0.03, 0.0), (0.0, 0.02), (0.03, 0.02)])
def test_penalised_cost_and_gradients_match_pytorch(l1, l2):
    net, x, y = _problem(l1, l2)
    cost = net.loss_and_grad(x, y)
    mine = [g.copy() for layer in net.layers for g in (layer.grad_W, layer.grad_b)]
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in net.get_weights()]
    z = torch.tensor(x)
    for k in range(0, len(params), 2):
        a = z @ params[k] + params[k + 1]
        z = torch.softmax(a, dim=1) if k == len(params) - 2 else torch.tanh(a)
    weights = params[0::2]  # biases are not penalised
    value = -(torch.tensor(y) * torch.log(z)).sum() / len(y) \
        + l2 / 2 * sum((w ** 2).sum() for w in weights) + l1 * sum(w.abs().sum() for w in weights)
    value.backward()
    assert cost == pytest.approx(value.item(), rel=1e-12)
    for ours, p in zip(mine, params):
        np.testing.assert_allclose(ours, p.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_l1_is_validated_kept_by_copies_and_counted_by_evaluate():
    net, x, y = _problem(0.05, 0.0)
    twin = net.copy()
    assert twin.l1 == 0.05 and net.get_config()["l1"] == 0.05
    plain = Network.from_config({**net.get_config(), "l1": 0.0})
    plain.set_weights(net.get_weights())
    penalty = 0.05 * sum(np.abs(layer.W).sum() for layer in net.layers)
    assert net.evaluate(x, y)["loss"] == pytest.approx(plain.evaluate(x, y)["loss"] + penalty, rel=1e-12)
    with pytest.raises(Exception, match="l1"):
        Network([2, 2], l1=-1.0)
