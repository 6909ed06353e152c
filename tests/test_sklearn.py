"""The scikit-learn estimators: scikit-learn's own checks, its tools, model files and exact gradients."""
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn", reason="scikit-learn is the sklearn extra")  # noqa: F841

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import (check_sample_weight_equivalence_on_dense_data,  # noqa: E402
                                            parametrize_with_checks)

from glassnet.sklearn import GlassnetClassifier, GlassnetRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@parametrize_with_checks([GlassnetClassifier(max_iter=100), GlassnetRegressor(max_iter=100)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", [GlassnetClassifier(solver="lbfgs"),
                                       GlassnetRegressor(solver="sgd", tol=1e-2, random_state=42)])
def test_sample_weight_equivalence_with_the_parameters_sklearn_uses_for_its_mlp(estimator):
    check_sample_weight_equivalence_on_dense_data(type(estimator).__name__, estimator)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xte), ytr, yte


@pytest.mark.parametrize("solver,params", [("sgd", dict(learning_rate_init=0.01)), ("adam", {}), ("lbfgs", {})])
def test_digits_accuracy_within_one_point_of_mlpclassifier(digits, solver, params):
    Xtr, Xte, ytr, yte = digits
    scores = {}
    for name, cls in (("glassnet", GlassnetClassifier), ("sklearn", MLPClassifier)):
        runs = []
        for seed in range(2):
            model = cls(hidden_layer_sizes=(100,), solver=solver, max_iter=200, random_state=seed, **params)
            runs.append(model.fit(Xtr, ytr).score(Xte, yte))
        scores[name] = np.mean(runs)
    assert scores["glassnet"] > 0.95
    assert abs(scores["glassnet"] - scores["sklearn"]) <= 0.01, scores


def test_fitted_attributes(digits):
    Xtr, _, ytr, _ = digits
    clf = GlassnetClassifier(hidden_layer_sizes=(20, 10), max_iter=5, random_state=0, early_stopping=True).fit(Xtr, ytr)
    assert list(clf.classes_) == list(range(10)) and clf.n_features_in_ == 64
    assert [c.shape for c in clf.coefs_] == [(64, 20), (20, 10), (10, 10)]
    assert [b.shape for b in clf.intercepts_] == [(20,), (10,), (10,)]
    assert clf.n_iter_ == 5 and len(clf.loss_curve_) == 5 and clf.loss_ == clf.loss_curve_[-1]
    assert len(clf.validation_scores_) == 5 and clf.t_ == 5 * int(round(len(Xtr) * 0.9))
    assert clf.n_layers_ == 4 and clf.n_outputs_ == 10 and clf.out_activation_ == "softmax"
    proba = clf.predict_proba(Xtr[:5])
    assert proba.shape == (5, 10) and np.allclose(proba.sum(axis=1), 1)


def test_feature_names_and_string_labels():
    pd = pytest.importorskip("pandas", reason="feature names come from a DataFrame")
    X = pd.DataFrame({"height": [1.0, 2.0, 3.0, 4.0] * 10, "weight": [4.0, 3.0, 2.0, 1.0] * 10})
    y = np.array(["small", "small", "big", "big"] * 10)
    clf = GlassnetClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0).fit(X, y)
    assert list(clf.feature_names_in_) == ["height", "weight"] and set(clf.predict(X)) <= {"small", "big"}
    assert clf.score(X, y) == 1.0


def test_partial_fit_and_warm_start(digits):
    Xtr, Xte, ytr, yte = digits
    clf = GlassnetClassifier(hidden_layer_sizes=(32,), learning_rate_init=0.01, random_state=0)
    for _ in range(10):
        clf.partial_fit(Xtr, ytr, classes=np.arange(10))
    assert clf.n_iter_ == 10 and clf.score(Xte, yte) > 0.9
    warm = GlassnetClassifier(hidden_layer_sizes=(32,), max_iter=3, warm_start=True, random_state=0)
    warm.fit(Xtr, ytr)
    first = [c.copy() for c in warm.coefs_]
    warm.fit(Xtr, ytr)
    assert warm.n_iter_ == 6 and not np.array_equal(first[0], warm.coefs_[0])
    with pytest.raises(ValueError, match="classes must be passed"):
        GlassnetClassifier().partial_fit(Xtr, ytr)


def test_pipeline_gridsearch_with_process_workers_and_cross_validation(digits):
    Xtr, _, ytr, _ = digits
    pipe = make_pipeline(StandardScaler(), GlassnetClassifier(max_iter=30, random_state=0))
    search = GridSearchCV(pipe, {"glassnetclassifier__hidden_layer_sizes": [(16,), (32,)],
                                 "glassnetclassifier__solver": ["adam", "lbfgs"]}, cv=2, n_jobs=2)
    search.fit(Xtr[:600], ytr[:600])  # joblib's default (loky) backend: separate worker processes
    assert search.best_score_ > 0.85 and len(search.cv_results_["params"]) == 4
    scores = cross_val_score(GlassnetClassifier(max_iter=30, random_state=0), Xtr[:600], ytr[:600], cv=3)
    assert scores.shape == (3,) and scores.min() > 0.8
    twin = clone(search.best_estimator_)
    assert twin.get_params()["glassnetclassifier__max_iter"] == 30 and not hasattr(twin[-1], "network_")


def test_gridsearch_on_a_local_dask_cluster(digits):
    distributed = pytest.importorskip("distributed", reason="dask.distributed is optional")
    import joblib

    Xtr, _, ytr, _ = digits
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                                  processes=True) as cluster, distributed.Client(cluster):
        with joblib.parallel_backend("dask"):
            search = GridSearchCV(GlassnetClassifier(max_iter=30, learning_rate_init=0.01, random_state=0),
                                  {"hidden_layer_sizes": [(16,), (32,)]}, cv=2).fit(Xtr[:400], ytr[:400])
    assert search.best_score_ > 0.8


def test_model_file_round_trip(tmp_path, digits):
    Xtr, Xte, ytr, yte = digits
    clf = GlassnetClassifier(hidden_layer_sizes=(24,), max_iter=20, random_state=0).fit(Xtr, ytr)
    clf.save(str(tmp_path / "clf.npz"))
    back = GlassnetClassifier.load(str(tmp_path / "clf.npz"))
    assert np.array_equal(back.predict_proba(Xte), clf.predict_proba(Xte))
    assert np.array_equal(back.predict(Xte), clf.predict(Xte)) and back.hidden_layer_sizes == (24,)
    X, y = make_regression(60, 4, n_targets=2, random_state=0)
    reg = GlassnetRegressor(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0).fit(X, y)
    reg.save(str(tmp_path / "reg.npz"))
    assert np.array_equal(GlassnetRegressor.load(str(tmp_path / "reg.npz")).predict(X), reg.predict(X))
    from glassnet.modelfile import load_model

    assert load_model(str(tmp_path / "clf.npz")).predict(Xte[:3]).tolist() == clf.predict(Xte[:3]).tolist()


@pytest.mark.parametrize("n_outputs", [1, 2, 3])
@pytest.mark.parametrize("solver", ["sgd", "adam", "adamw", "lbfgs"])
def test_gradient_is_the_true_gradient_of_the_reported_loss(n_outputs, solver):
    X, y = make_regression(40, 3, n_targets=n_outputs, noise=0.1, random_state=n_outputs)
    reg = GlassnetRegressor(hidden_layer_sizes=(5,), solver=solver, alpha=0.01, max_iter=5, random_state=0)
    reg.fit(X, y / 100)
    targets = (y / 100).reshape(len(y), -1)
    net = reg.network_
    theta = net.params.get_vector()

    def loss_and_gradient(vector):  # the objective L-BFGS sees: the network's one step contract
        net.params.set_vector(vector)
        return net.loss_and_grad(X, targets), net.params.gradient_vector()

    value, grad = loss_and_gradient(theta)
    net.params.set_vector(theta)
    # the loss is ½‖ŷ − y‖² summed over outputs (mean over samples) + the L2 term
    residual = reg.network_.forward(X) - targets
    penalty = 0.5 * reg.network_.l2 * sum((w ** 2).sum() for w in reg.coefs_)
    assert value == pytest.approx(0.5 * (residual ** 2).sum(axis=1).mean() + penalty, rel=1e-10)
    if solver == "lbfgs":
        assert reg.loss_ == pytest.approx(value, rel=1e-10)
    numeric = np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = 1e-6
        numeric[i] = (loss_and_gradient(theta + step)[0] - loss_and_gradient(theta - step)[0]) / 2e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_invalid_parameters_are_reported_in_fit_not_init(digits):
    Xtr, _, ytr, _ = digits
    bad = GlassnetClassifier(solver="newton", hidden_layer_sizes=(0,))
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        bad.fit(Xtr, ytr)
    with pytest.raises(ValueError, match="solver must be one of"):
        GlassnetClassifier(solver="newton").fit(Xtr, ytr)
    with pytest.raises(ValueError, match="activation lists 2 names for 1 hidden layers"):
        GlassnetClassifier(activation=["relu", "tanh"]).fit(Xtr, ytr)


def test_per_layer_activations_cost_dtype_and_convergence_warning(digits):
    Xtr, Xte, ytr, yte = digits
    clf = GlassnetClassifier(hidden_layer_sizes=(32, 16), activation=["tanh", "relu"], dtype="float32",
                             solver="adamw", max_iter=3, random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf.fit(Xtr, ytr)
    assert [layer.activation.name for layer in clf.network_.layers] == ["tanh", "relu", "softmax"]
    assert clf.coefs_[0].dtype == np.float32 and clf.predict_proba(Xte).dtype == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        GlassnetClassifier(max_iter=500, tol=10.0, random_state=0).fit(Xtr, ytr)  # stops early, no warning
