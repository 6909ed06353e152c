"""shuffle="blocks": epochs that reorder whole blocks of consecutive rows, so data on disk is read in order."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.errors import ConfigError
from glassnet.training import Trainer, block_order


@pytest.mark.parametrize("n_samples, block_rows", [(20, 4), (23, 4), (5, 8), (7, 1)])
def test_every_batch_is_one_block_of_consecutive_rows(n_samples, block_rows):
    order = block_order(np.random.default_rng(3), n_samples, block_rows)
    assert sorted(order.tolist()) == list(range(n_samples))  # every row once
    n_full = n_samples // block_rows
    for start in range(0, n_samples, block_rows):
        batch = order[start:start + block_rows].tolist()
        assert batch == list(range(batch[0], batch[0] + len(batch)))  # consecutive, ascending
        assert batch[0] % block_rows == 0  # a whole block, not straddling two
    assert order[n_full * block_rows:].tolist() == list(range(n_full * block_rows, n_samples))  # short one last
    # the blocks' order is the generator's permutation of the full blocks
    expected = np.random.default_rng(3).permutation(n_full)
    assert [order[k * block_rows] // block_rows for k in range(n_full)] == expected.tolist()


def test_a_blocks_epoch_equals_training_on_the_rows_in_that_block_order(tmp_path):
    """Two epochs with shuffle="blocks" on a memmap give the weights of two unshuffled epochs on the rows put
    in each epoch's block order by hand (from the same seeded generator)."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((22, 3)), rng.integers(0, 2, 22)
    path = tmp_path / "x.f64"
    X.tofile(path)
    on_disk = np.memmap(path, dtype=np.float64, mode="r", shape=X.shape)
    blocks = gn.Network([3, 4, 2], activation="tanh", output="softmax", seed=5)
    blocks.fit(on_disk, y, epochs=2, batch_size=5, shuffle="blocks", learning_rate=0.3)

    by_hand = gn.Network([3, 4, 2], activation="tanh", output="softmax", seed=5)
    generator = np.random.default_rng(5)
    generator.bit_generator.state = by_hand.rng.bit_generator.state  # where the network's generator stands
    for _ in range(2):
        starts = generator.permutation(4) * 5  # 4 full blocks of 5 rows; rows 20-21 stay last
        order = np.concatenate([np.arange(s, s + 5) for s in starts] + [np.arange(20, 22)])
        by_hand.fit(X[order], y[order], epochs=1, batch_size=5, shuffle=False, learning_rate=0.3)
    for ours, theirs in zip(blocks.get_weights(), by_hand.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


def test_the_compiled_engine_trains_blocks_alike():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((30, 3)), rng.integers(0, 3, 30)
    nets = [gn.Network([3, 5, 3], activation="relu", output="softmax", seed=2) for _ in range(2)]
    for net, engine in zip(nets, ("numpy", "compiled")):
        net.fit(X, y, epochs=2, batch_size=4, shuffle="blocks", engine=engine, learning_rate=0.1)
    for ours, theirs in zip(nets[0].get_weights(), nets[1].get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


def test_an_unknown_shuffle_is_refused():
    with pytest.raises(ConfigError, match="shuffle must be True, False or 'blocks'; got 'rows'"):
        Trainer(gn.Network([2, 2], seed=0), shuffle="rows")
