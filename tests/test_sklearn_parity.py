"""GlassnetClassifier follows MLPClassifier step for step where the parameter names are scikit-learn's.

From identical initial weights, with shuffling off, ten epochs of each solver must end at the same weights to
1e-10. The data has 1,797 rows and batches of 200, so every epoch ends with a partial batch of 197 rows (whose
L2 term scikit-learn scales by 197, not 200). Both estimators first fit one epoch with ``warm_start=True``;
the weights are then overwritten with the same values in both and the ten epochs run as a second, warm fit,
which scikit-learn starts with a fresh optimizer (its momentum, Adam moments and step count at zero).
"""
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="scikit-learn is the sklearn extra")

from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

from glassnet.sklearn import GlassnetClassifier  # noqa: E402

SOLVERS = {
    "sgd constant": dict(solver="sgd", momentum=0.0, learning_rate_init=0.05),
    "sgd momentum": dict(solver="sgd", momentum=0.9, nesterovs_momentum=False, learning_rate_init=0.02),
    "sgd nesterov": dict(solver="sgd", momentum=0.9, nesterovs_momentum=True, learning_rate_init=0.02),
    "sgd invscaling": dict(solver="sgd", momentum=0.5, learning_rate="invscaling", learning_rate_init=0.5,
                           power_t=0.25),
    "adam": dict(solver="adam", learning_rate_init=0.01),
}


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def _same_start(shapes, seed):
    """Initial weights drawn here, handed to both estimators."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(-0.3, 0.3, shape) for shape in shapes]


@pytest.mark.parametrize("alpha", [1e-4, 0.5])
@pytest.mark.parametrize("case", sorted(SOLVERS))
def test_weights_follow_mlpclassifier_for_ten_epochs(digits, case, alpha):
    X, y = digits
    common = dict(hidden_layer_sizes=(16,), activation="tanh", batch_size=200, alpha=alpha, shuffle=False,
                  warm_start=True, max_iter=1, random_state=0, tol=0.0, n_iter_no_change=1000, **SOLVERS[case])
    theirs, mine = MLPClassifier(**common), GlassnetClassifier(**common)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for estimator in (theirs, mine):
            estimator.fit(X, y)  # one epoch: builds the network and leaves optimizer state behind
        start = _same_start([w.shape for pair in zip(theirs.coefs_, theirs.intercepts_) for w in pair], seed=1)
        for i in range(len(theirs.coefs_)):
            theirs.coefs_[i][...], theirs.intercepts_[i][...] = start[2 * i], start[2 * i + 1]
        mine.network_.set_weights(start)
        for estimator in (theirs, mine):
            estimator.set_params(max_iter=10).fit(X, y)
    assert mine.n_iter_ == theirs.n_iter_ == 10 and mine.t_ == theirs.t_ == 11 * X.shape[0]
    for a, b in zip(mine.coefs_ + mine.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
    np.testing.assert_allclose(mine.loss_curve_[-10:], theirs.loss_curve_[-10:], rtol=1e-10)
    moved = max(np.abs(a - s).max() for a, s in zip(theirs.coefs_, start[0::2]))
    assert moved > 0.05  # the weights really travelled: the agreement is not that of two runs standing still
