"""scikit-learn estimators (faces floor): ``GlassnetClassifier`` and ``GlassnetRegressor`` (the ``sklearn`` extra).

Parameters mirror :class:`sklearn.neural_network.MLPClassifier` / ``MLPRegressor`` where the meaning is the
same, plus glassnet's own (per-layer activations, cost, initializer, dtype, the ``adamw`` solver). Training
runs on the glassnet engine; ``lbfgs`` goes through ``scipy.optimize.minimize`` as scikit-learn's does.

Differences from scikit-learn's MLP, on purpose:

- the squared loss is ½‖ŷ − y‖² summed over outputs (scikit-learn averages it over outputs but not its
  gradient, so its L-BFGS sees a gradient n_outputs times too large); ``loss_`` here is exactly the function
  whose gradient is used;

Where the names are scikit-learn's, so is the arithmetic (tests/test_sklearn_parity.py: from the same
weights, ten epochs of sgd, momentum, Nesterov, invscaling and adam end within 1e-15 of MLPClassifier's):

- ``alpha`` is scaled as scikit-learn scales it: the L2 term of a batch is ½ · alpha · Σ‖W‖² / n_batch, with
  a partial last batch's own size (with sample weights: n_batch · mean(w) where scikit-learn takes the
  batch's exact weight sum);
- ``epsilon`` is added to sqrt(v) with Adam's bias corrections folded into the step size (glassnet's
  ``Adam(epsilon_mode="v")``; the library's default adds it to sqrt(v_hat));
- ``warm_start=True`` keeps the weights but starts a fresh optimizer at each ``fit`` (``partial_fit`` keeps
  it); ``n_iter_`` counts the epochs of the last fit, ``t_`` the samples of all of them.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import LabelBinarizer
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d, validate_data
except ImportError as exc:  # pragma: no cover
    raise ImportError("glassnet.sklearn needs scikit-learn: pip install 'glassnet[sklearn]'") from exc

from .constraints import check
from .errors import ConfigError
from .modelfile import Model, load_model, save_model
from .network import Network
from .callbacks import Callback
from .layers import Dense
from .optimizers import Adam, AdamW, Momentum, SGD
from .schedules import InvScaling
from .training import Trainer

SOLVERS = ("sgd", "adam", "adamw", "lbfgs")
SCHEDULES = ("constant", "invscaling", "adaptive")


class _GlassnetMLP(BaseEstimator):
    """Shared machinery; ``__init__`` only stores the parameters (validation happens in ``fit``)."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5,
                 max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False,
                 momentum=0.9, nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 weight_decay=0.01, cost=None, initializer="auto", dtype="float64"):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.weight_decay = weight_decay
        self.cost = cost
        self.initializer = initializer
        self.dtype = dtype

    # ---- validation --------------------------------------------------------------------------------
    def _validate_params_(self) -> None:
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, (int, np.integer)) else list(sizes)
        if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
            raise ConfigError(f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}")
        self._hidden = [int(s) for s in sizes]
        checks = [("solver", self.solver in SOLVERS, f"one of {SOLVERS}"),
                  ("learning_rate", self.learning_rate in SCHEDULES, f"one of {SCHEDULES}"),
                  ("validation_fraction", _number(self.validation_fraction) and 0 < self.validation_fraction < 1,
                   "in (0, 1)"),
                  ("max_fun", _integer(self.max_fun) and self.max_fun >= 1, ">= 1"),
                  ("batch_size", self.batch_size == "auto" or (_integer(self.batch_size) and self.batch_size >= 1),
                   "'auto' or an integer >= 1"),
                  ("dtype", self.dtype in ("float32", "float64", np.float32, np.float64), "float32 or float64")]
        for name, ok, expected in checks:
            if not ok:
                raise ConfigError(f"{name} must be {expected}, got {getattr(self, name)!r}")
        # the parameters glassnet shares with scikit-learn's MLP, checked in glassnet's one table
        for table_name, name in (("l2", "alpha"), ("learning_rate", "learning_rate_init"), ("epochs", "max_iter"),
                                 ("min_delta", "tol"), ("momentum", "momentum"), ("patience", "n_iter_no_change"),
                                 ("beta_1", "beta_1"), ("beta_2", "beta_2"), ("epsilon", "epsilon"),
                                 ("weight_decay", "weight_decay"), ("power_t", "power_t")):
            check(table_name, getattr(self, name), name)
        activations = self.activation if isinstance(self.activation, (list, tuple)) else [self.activation] * len(self._hidden)
        if len(activations) != len(self._hidden):
            raise ConfigError(f"activation lists {len(activations)} names for {len(self._hidden)} hidden layers")
        self._activations = list(activations)

    # ---- network -----------------------------------------------------------------------------------
    def _build_network(self, n_features: int, n_outputs: int, output: str) -> Network:
        rng_seed = _seed(self.random_state)
        sizes = [n_features, *self._hidden, n_outputs]
        acts = self._activations + [output]
        dtype = np.dtype(self.dtype)
        layers = []
        for n_in, n_out, act in zip(sizes[:-1], sizes[1:], acts):
            weight_init, bias_init = self.initializer, "zeros"
            if weight_init == "auto":
                # scikit-learn's MLP: W and b uniform in ±sqrt(factor / (fan_in + fan_out)),
                # factor 2 for logistic units, 6 otherwise
                factor = 2.0 if act in ("logistic", "sigmoid") else 6.0
                limit = math.sqrt(factor / (n_in + n_out))
                weight_init = bias_init = {"name": "uniform", "low": -limit, "high": limit}
            layers.append(Dense(n_in, n_out, act, weight_init, bias_init, dtype))
        network = Network(layers, cost=self.cost, seed=rng_seed, dtype=dtype)
        network.reset_parameters(rng_seed)
        return network

    def _optimizer(self):
        if self.solver == "sgd":
            if self.momentum == 0:
                return SGD()
            return Momentum(self.momentum, nesterov=self.nesterovs_momentum)
        # epsilon as scikit-learn applies it: added to sqrt(v), the bias corrections folded into the step size
        if self.solver == "adam":
            return Adam(self.beta_1, self.beta_2, self.epsilon, epsilon_mode="v")
        return AdamW(self.beta_1, self.beta_2, self.epsilon, self.weight_decay, epsilon_mode="v")

    # ---- fit ---------------------------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Train from scratch (or from the last weights with ``warm_start=True``)."""
        return self._fit(X, y, sample_weight, incremental=False)

    def _fit(self, X, y, sample_weight, incremental: bool):
        self._validate_params_()
        first = not (incremental or self.warm_start) or not hasattr(self, "network_")
        X, y = validate_data(self, X, y, reset=first, multi_output=True, dtype=(np.float64, np.float32),
                             y_numeric=not isinstance(self, ClassifierMixin))
        X = X.astype(np.dtype(self.dtype), copy=False)
        if np.ndim(y) == 2 and np.shape(y)[1] == 1:
            y = column_or_1d(y, warn=True)  # as scikit-learn's MLP: a column vector is taken as 1-D, with a warning
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.dtype(self.dtype))
        targets = self._encode_targets(y, first)
        if first:
            self.network_ = self._build_network(X.shape[1], targets.shape[1], self._output_activation())
            self._trainer = None
            self.n_iter_, self.t_ = 0, 0
            self.loss_curve_, self.best_loss_ = [], np.inf
            self.validation_scores_ = [] if self.early_stopping else None
            self.best_validation_score_ = -np.inf if self.early_stopping else None
        self.n_outputs_ = targets.shape[1]
        self.n_layers_ = len(self._hidden) + 2
        self.out_activation_ = {"sigmoid": "logistic"}.get(self.network_.output_activation.name,
                                                             self.network_.output_activation.name)
        if self.solver == "lbfgs":
            self._fit_lbfgs(X, targets, sample_weight)
        else:
            self._fit_stochastic(X, targets, sample_weight, incremental)
        self.export_weights()
        return self

    def _batch_size(self, n_samples: int) -> int:
        return min(200, n_samples) if self.batch_size == "auto" else min(int(self.batch_size), n_samples)

    def _fit_stochastic(self, X, targets, sample_weight, incremental: bool) -> None:
        """Epochs through the trainer's one loop; scikit-learn's stopping rule and its 'adaptive' rate are a
        callback, 'invscaling' is a schedule."""
        X_val = y_val = None
        if self.early_stopping and not incremental:
            X, X_val, targets, y_val, sample_weight = self._validation_split(X, targets, sample_weight)
        batch_size = self._batch_size(X.shape[0])
        if self._trainer is None or not (incremental or self.warm_start):
            self._rule = _SklearnStoppingRule(self, X_val, y_val)
        if self._trainer is None or not incremental:
            # as scikit-learn: every fit (warm or not) starts a fresh optimizer; partial_fit keeps it
            self._trainer = Trainer(self.network_, self._optimizer(), self.learning_rate_init, batch_size,
                                    schedule=self._schedule(X.shape[0]), shuffle=self.shuffle, callbacks=[self._rule])
        trainer = self._trainer
        trainer.batch_size, trainer.shuffle = batch_size, self.shuffle
        self._rule.X_val, self._rule.y_val, self._rule.incremental = X_val, y_val, incremental
        trainer.begin(X, targets, sample_weight=sample_weight)
        try:
            ended = self._run_epochs(trainer, 1 if incremental else self.max_iter, X.shape[0], sample_weight)
        finally:
            trainer.end()
        # scikit-learn counts n_iter_ per fit (a warm fit starts again at 0) and t_ over every fit
        self.n_iter_ = (self.n_iter_ if incremental else 0) + len(ended)
        self.t_ += X.shape[0] * len(ended)
        if not incremental and not trainer.stop_training:
            warnings.warn(f"Stochastic optimizer: maximum iterations ({self.max_iter}) reached and the "
                          "optimization hasn't converged yet.", ConvergenceWarning)
        if self.early_stopping and self._rule.best_weights is not None and not incremental:
            self.network_.set_weights(self._rule.best_weights)

    def _run_epochs(self, trainer, epochs: int, n_samples: int, sample_weight) -> list[dict]:
        """Up to ``epochs`` epochs; returns their logs. scikit-learn divides a batch's L2 term by that batch's
        own size, ½ α ‖W‖² / n_batch, so a partial last batch (197 of 1,797 rows in batches of 200) runs with
        its own penalty. With sample weights the size is the batch's expected weight sum, n_batch · mean(w)
        (scikit-learn uses the batch's exact sum; the trainer draws the shuffled batches itself)."""
        mean_weight = 1.0 if sample_weight is None else float(np.mean(sample_weight))
        n_full, last = divmod(n_samples, trainer.batch_size)
        ended = []
        for _ in range(epochs):
            if trainer.stop_training:
                break
            self.network_.l2 = float(self.alpha) / (trainer.batch_size * mean_weight)
            if last and n_full:
                trainer.train(max_steps=n_full)
            if last:
                self.network_.l2 = float(self.alpha) / (last * mean_weight)
            ended += trainer.train(max_epochs=1)
        return ended

    def _validation_split(self, X, targets, sample_weight):
        stratify = targets.argmax(axis=1) if isinstance(self, ClassifierMixin) and targets.shape[1] > 1 else None
        parts = train_test_split(X, targets, *(() if sample_weight is None else (sample_weight,)),
                                 random_state=_seed(self.random_state), test_size=self.validation_fraction,
                                 stratify=stratify)
        X, X_val, targets, y_val = parts[:4]
        return X, X_val, targets, y_val, (parts[4] if sample_weight is not None else None)

    def _schedule(self, n_samples: int):
        if self.learning_rate == "invscaling":
            return InvScaling(self.power_t, n_samples, samples_before=self.t_)
        return "constant"  # 'adaptive' lowers trainer.learning_rate from the stopping rule

    def _fit_lbfgs(self, X, targets, sample_weight) -> None:
        from scipy.optimize import minimize

        self.network_.l2 = float(self.alpha) / (X.shape[0] if sample_weight is None else float(np.sum(sample_weight)))
        x_engine, y_engine = self.network_.check_xy(X, targets)
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=self.network_.dtype)
        result = minimize(self._loss_and_gradient, self.network_.params.get_vector(), jac=True,
                          args=(x_engine, y_engine, weights), method="L-BFGS-B",
                          options={"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol})
        if not result.success and result.nit >= self.max_iter:
            warnings.warn(f"lbfgs failed to converge after {result.nit} iterations; increase max_iter or "
                          f"scale the data", ConvergenceWarning)
        self.network_.params.set_vector(result.x)
        self.n_iter_ = int(result.nit)
        self.loss_ = float(result.fun)
        self.best_loss_ = None
        self.loss_curve_ = None

    def _loss_and_gradient(self, vector, x, y, sample_weight=None):
        """(C(θ), ∇C(θ)) for all parameters θ as one vector — what L-BFGS minimises (the network's step)."""
        network = self.network_
        network.params.set_vector(vector)
        value = network.loss_and_grad(x, y, sample_weight, checked=True)
        return value, network.params.gradient_vector()

    def export_weights(self) -> None:
        weights = self.network_.get_weights()
        self.coefs_, self.intercepts_ = weights[0::2], weights[1::2]

    def partial_fit(self, X, y, sample_weight=None, **kwargs):
        """One epoch over (X, y), continuing from the current weights and optimizer state."""
        if self.solver == "lbfgs":
            raise AttributeError("partial_fit is not available for solver 'lbfgs'")
        return self._partial_fit(X, y, sample_weight, **kwargs)

    def _predict_outputs(self, X):
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return self.network_.outputs(X.astype(self.network_.dtype, copy=False))

    # ---- model files -------------------------------------------------------------------------------
    def to_model(self) -> Model:
        check_is_fitted(self, "network_")
        labels = [c.item() if hasattr(c, "item") else c for c in getattr(self, "classes_", [])]
        names = [str(n) for n in getattr(self, "feature_names_in_", [])]
        return Model(self.network_.copy(), None, labels, names,
                     {"estimator": type(self).__name__, "params": _json_params(self.get_params())})

    def save(self, path: str) -> None:
        """Write the fitted estimator as a glassnet model file."""
        save_model(path, self.to_model())

    @classmethod
    def load(cls, path: str):
        """A fitted estimator from a glassnet model file (written by :meth:`save` or ``glassnet train``)."""
        model = load_model(path)
        params = model.training.get("params", {}) if model.training.get("estimator") == cls.__name__ else {}
        estimator = cls(**{k: (tuple(v) if k == "hidden_layer_sizes" else v) for k, v in params.items()
                           if k in cls().get_params()})
        estimator.network_ = model.network
        estimator.n_features_in_ = model.network.n_inputs
        if model.feature_names:
            estimator.feature_names_in_ = np.array(model.feature_names, dtype=object)
        estimator.n_outputs_ = model.network.n_outputs
        estimator.n_layers_ = len(model.network.layers) + 1
        estimator.out_activation_ = model.network.output_activation.name
        estimator.restore_targets(model)
        estimator.export_weights()
        return estimator


class _SklearnStoppingRule(Callback):
    """scikit-learn's bookkeeping and stopping rule after each epoch: ``loss_`` and ``loss_curve_``; stop after
    ``n_iter_no_change`` epochs without improving (the training loss, or the validation score with
    ``early_stopping``) by more than ``tol``; with ``learning_rate="adaptive"`` divide the learning rate by 5
    instead, until it is at most 1e-6."""

    def __init__(self, estimator: "_GlassnetMLP", X_val=None, y_val=None):
        self.estimator, self.X_val, self.y_val = estimator, X_val, y_val
        self.incremental, self.no_improvement, self.best_weights = False, 0, None

    def get_state(self) -> dict:
        return {"no_improvement": self.no_improvement}

    def set_state(self, state: dict) -> None:
        self.no_improvement = state.get("no_improvement", 0)

    def on_epoch_end(self, trainer, epoch, logs):
        est = self.estimator
        est.loss_ = logs["loss"]
        est.loss_curve_.append(est.loss_)
        if est.verbose:
            print(f"Iteration {est.n_iter_ + len(est.loss_curve_) - est.n_iter_}, loss = {est.loss_:.8f}")
        if self.incremental:
            est.best_loss_ = min(est.best_loss_, est.loss_)
            trainer.stop("partial_fit: one epoch")
            return
        improved = self._improved(est)
        self.no_improvement = 0 if improved else self.no_improvement + 1
        if self.no_improvement <= est.n_iter_no_change:
            return
        if est.learning_rate == "adaptive" and trainer.learning_rate > 1e-6:
            trainer.learning_rate /= 5.0
            self.no_improvement = 0
            return
        trainer.stop(f"no improvement over {est.tol} for {est.n_iter_no_change} consecutive epochs")

    def _improved(self, est) -> bool:
        if not est.early_stopping:
            improved = est.loss_ < est.best_loss_ - est.tol
            est.best_loss_ = min(est.best_loss_, est.loss_)
            return improved
        score = est._validation_score(self.X_val, self.y_val)
        est.validation_scores_.append(score)
        improved = score > est.best_validation_score_ + est.tol
        est.best_validation_score_ = max(est.best_validation_score_, score)
        if score >= est.best_validation_score_:
            self.best_weights = est.network_.get_weights()
        est.best_loss_ = None
        return improved


class GlassnetClassifier(ClassifierMixin, _GlassnetMLP):
    """A multi-layer perceptron classifier trained by glassnet (softmax + cross-entropy for several classes,
    sigmoid + binary cross-entropy for two classes or multilabel targets)."""

    def _output_activation(self) -> str:
        return "sigmoid" if self._binarizer.y_type_ in ("binary", "multilabel-indicator") else "softmax"

    def _encode_targets(self, y, first: bool):
        if first:
            check_classification_targets(y)
            self._binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._binarizer.classes_
        else:
            unknown = np.setdiff1d(np.unique(y), self.classes_) if np.ndim(y) == 1 else []
            if len(unknown):
                raise ValueError(f"y has labels {list(unknown)} not seen in the first fit (classes_ {self.classes_})")
        return self._binarizer.transform(y).astype(np.dtype(self.dtype))

    def _validation_score(self, X_val, y_val) -> float:
        outputs = self.network_.outputs(X_val)
        return accuracy_score(self.network_.decide(y_val), self.network_.decide(outputs))

    def _partial_fit(self, X, y, sample_weight=None, classes=None):
        if not hasattr(self, "network_"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit")
            self._validate_params_()
            self._binarizer = LabelBinarizer().fit(classes)
            self.classes_ = self._binarizer.classes_
            X_checked = validate_data(self, X, reset=True, dtype=(np.float64, np.float32))
            self.network_ = self._build_network(X_checked.shape[1], len(self._binarizer.transform(self.classes_[:1])[0]),
                                                self._output_activation())
            self._trainer, self.n_iter_, self.t_ = None, 0, 0
            self.loss_curve_, self.best_loss_, self.validation_scores_ = [], np.inf, None
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes {classes!r} differ from those of the first call {self.classes_!r}")
        return self._fit(X, y, sample_weight, incremental=True)

    def predict_proba(self, X):
        """Class probabilities ``(n_samples, n_classes)``."""
        outputs = self._predict_outputs(X)
        if self._binarizer.y_type_ == "binary":
            return np.hstack([1.0 - outputs, outputs])
        return outputs

    def predict_log_proba(self, X):
        """``log(predict_proba(X))``, ``(n_samples, n_classes)`` (−inf where a probability is 0)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Class labels ``(n_samples,)`` from ``classes_`` (a 0/1 indicator matrix for multilabel targets)."""
        outputs = self._predict_outputs(X)
        if self._binarizer.y_type_ == "multilabel-indicator":
            return self._binarizer.inverse_transform(outputs, threshold=0.5)
        if self._binarizer.y_type_ == "binary":
            return self.classes_[(outputs[:, 0] > 0.5).astype(int)]
        return self.classes_[outputs.argmax(axis=1)]

    def restore_targets(self, model: Model) -> None:
        """Take ``classes_`` (and the label encoding) from a loaded model file's class labels."""
        self.classes_ = np.array(model.class_labels)
        self._binarizer = LabelBinarizer().fit(self.classes_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class GlassnetRegressor(RegressorMixin, _GlassnetMLP):
    """A multi-layer perceptron regressor trained by glassnet (identity output, squared loss
    ½‖ŷ − y‖² summed over outputs, mean over samples)."""

    def _output_activation(self) -> str:
        return "identity"

    def _encode_targets(self, y, first: bool):
        y = np.asarray(y, dtype=np.dtype(self.dtype))
        if first:
            self._y_1d = y.ndim == 1
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def _validation_score(self, X_val, y_val) -> float:
        return r2_score(y_val, self.network_.outputs(X_val))

    def _partial_fit(self, X, y, sample_weight=None):
        if not hasattr(self, "network_"):
            self._validate_params_()
            y_array = np.asarray(y)
            X_checked = validate_data(self, X, reset=True, dtype=(np.float64, np.float32))
            self.network_ = self._build_network(X_checked.shape[1], 1 if y_array.ndim == 1 else y_array.shape[1],
                                                "identity")
            self._trainer, self.n_iter_, self.t_ = None, 0, 0
            self.loss_curve_, self.best_loss_, self.validation_scores_ = [], np.inf, None
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """Predicted values: ``(n_samples,)`` for one target, ``(n_samples, n_targets)`` for several."""
        outputs = self._predict_outputs(X)
        return outputs[:, 0] if getattr(self, "_y_1d", outputs.shape[1] == 1) else outputs

    def restore_targets(self, model: Model) -> None:
        """Remember from a loaded model file whether ``predict`` returns one column or several."""
        self._y_1d = model.network.n_outputs == 1


def _number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and math.isfinite(value)


def _integer(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _seed(random_state):
    """An integer seed from scikit-learn's random_state (None, int or RandomState)."""
    if random_state is None:
        return None
    if isinstance(random_state, (int, np.integer)):
        return int(random_state)
    return int(random_state.randint(0, 2 ** 31 - 1))


def _json_params(params: dict) -> dict:
    out = {}
    for key, value in params.items():
        if isinstance(value, (np.integer, np.floating)):
            value = value.item()
        if isinstance(value, tuple):
            value = list(value)
        if value is None or isinstance(value, (bool, int, float, str, list)):
            out[key] = value
    return out
