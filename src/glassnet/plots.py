"""PNG figures (faces floor; the ``plot`` extra: matplotlib, headless Agg backend).

- ``plot_history``: loss and accuracy per epoch, train and validation
- ``plot_decision_boundary``: class regions of a 2-D classifier with the samples on top
- ``plot_confusion_matrix``: counts of true vs predicted class
- ``plot_network``: units as circles, weights as lines whose thickness is |w| and colour its sign
"""
from __future__ import annotations

import os

import numpy as np

from .backend import to_numpy
from .errors import ConfigError

MAX_UNITS_DRAWN = 24


def _pyplot():
    try:
        import matplotlib
    except ImportError:  # pragma: no cover
        raise ConfigError("plots need matplotlib: pip install 'glassnet[plot]'") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str) -> str:
    fig.savefig(path, dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return path


def plot_history(history, path: str) -> str:
    """Loss (and accuracy, when measured) per epoch, training and validation, saved as a PNG at ``path``; returns
    ``path``."""
    plt = _pyplot()
    has_accuracy = bool(history.accuracy)
    fig, axes = plt.subplots(1, 2 if has_accuracy else 1, figsize=(10 if has_accuracy else 5.5, 4))
    axes = np.atleast_1d(axes)
    axes[0].plot(history.epochs, history.loss, label="train", color="#1f77b4")
    if history.val_loss:
        axes[0].plot(history.epochs, history.val_loss, label="validation", color="#ff7f0e")
    axes[0].set(title="cost per epoch", xlabel="epoch", ylabel="loss")
    axes[0].set_yscale("log" if min(history.loss) > 0 else "linear")
    if has_accuracy:
        axes[1].plot(history.epochs, history.accuracy, label="train", color="#1f77b4")
        if history.val_accuracy:
            axes[1].plot(history.epochs, history.val_accuracy, label="validation", color="#ff7f0e")
        axes[1].set(title="accuracy per epoch", xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
    for axis in axes:
        axis.grid(alpha=0.3)
        axis.legend()
    return _save(fig, path)


def plot_decision_boundary(model, X, y, path: str, resolution: int = 200) -> str:
    """Needs 2 input features; colours each point of a grid by the model's predicted class."""
    if X.shape[1] != 2:
        raise ConfigError(f"a decision boundary needs 2-D data, this has {X.shape[1]} features")
    plt = _pyplot()
    pad = 0.1 * (X.max(axis=0) - X.min(axis=0)) + 1e-9
    low, high = X.min(axis=0) - pad, X.max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    grid = np.c_[gx.ravel(), gy.ravel()]
    proba = to_numpy(model.predict_proba(grid))
    fig, axis = plt.subplots(figsize=(5.5, 5))
    if proba.shape[1] <= 2:
        score = proba[:, -1].reshape(gx.shape)
        image = axis.contourf(gx, gy, score, levels=np.linspace(0, 1, 21), cmap="RdBu_r", alpha=0.8)
        fig.colorbar(image, ax=axis, label="P(class 1)")
    else:
        axis.contourf(gx, gy, proba.argmax(axis=1).reshape(gx.shape), levels=np.arange(proba.shape[1] + 1) - 0.5,
                      cmap="tab10", alpha=0.5)
    axis.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r" if proba.shape[1] <= 2 else "tab10", edgecolors="k",
                 linewidths=0.4, s=18)
    axis.set(title="decision boundary", xlabel="x1", ylabel="x2")
    return _save(fig, path)


def plot_confusion_matrix(matrix, labels, path: str) -> str:
    """The confusion matrix ``(n_classes, n_classes)`` (rows: true class) as a PNG with ``labels`` on both axes; returns
    ``path``."""
    plt = _pyplot()
    n = matrix.shape[0]
    fig, axis = plt.subplots(figsize=(1.0 + 0.55 * n, 0.8 + 0.55 * n))
    axis.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        axis.text(j, i, str(count), ha="center", va="center",
                  color="white" if count > matrix.max() / 2 else "black", fontsize=9)
    axis.set_xticks(range(n), labels=[str(label) for label in labels])
    axis.set_yticks(range(n), labels=[str(label) for label in labels])
    axis.set(title=f"confusion matrix ({matrix.trace()} of {matrix.sum()} correct)", xlabel="predicted",
             ylabel="true")
    return _save(fig, path)


def _drawn_units(weights_in, weights_out, n_units: int) -> np.ndarray:
    """Which units of a layer to draw: all if few, else those with the largest weights."""
    if n_units <= MAX_UNITS_DRAWN:
        return np.arange(n_units)
    strength = np.zeros(n_units)
    if weights_in is not None:
        strength += np.abs(weights_in).sum(axis=0)
    if weights_out is not None:
        strength += np.abs(weights_out).sum(axis=1)
    return np.sort(np.argsort(-strength)[:MAX_UNITS_DRAWN])


def plot_network(network, path: str) -> str:
    """Units in columns; each weight a line, thickness ∝ |w|, blue for positive and red for negative."""
    plt = _pyplot()
    weights = [to_numpy(layer.W) for layer in network.layers]
    sizes = network.sizes
    shown = [_drawn_units(weights[k - 1] if k else None, weights[k] if k < len(weights) else None, n)
             for k, n in enumerate(sizes)]
    fig, axis = plt.subplots(figsize=(2.2 * len(sizes) + 1, 6))
    position = lambda k, i: (k, 1 - (i + 1) / (len(shown[k]) + 1))  # noqa: E731
    largest = max(float(np.abs(W).max()) for W in weights) or 1.0
    for k, W in enumerate(weights):
        for a, i in enumerate(shown[k]):
            for b, j in enumerate(shown[k + 1]):
                w = W[i, j]
                (x0, y0), (x1, y1) = position(k, a), position(k + 1, b)
                axis.plot([x0, x1], [y0, y1], color="#2166ac" if w > 0 else "#b2182b",
                          linewidth=0.2 + 3.0 * abs(w) / largest, alpha=0.25 + 0.6 * abs(w) / largest)
    for k, units in enumerate(shown):
        xs, ys = zip(*(position(k, a) for a in range(len(units))))
        axis.scatter(xs, ys, s=120, color="white", edgecolors="black", zorder=3)
        name = "input" if k == 0 else network.layers[k - 1].activation.name
        note = f"\n({len(units)} of {sizes[k]} shown)" if len(units) < sizes[k] else ""
        axis.text(k, 1.0, f"{name}\n{sizes[k]} units{note}", ha="center", va="bottom", fontsize=9)
    axis.set_xlim(-0.5, len(sizes) - 0.5)
    axis.set_ylim(-0.05, 1.15)
    axis.axis("off")
    axis.set_title(f"{network.n_weights:,} weights (blue > 0, red < 0, thickness ∝ |w|)", fontsize=10)
    return _save(fig, path)


def write_training_plots(folder: str, result) -> list[str]:
    """Every plot that fits a training run, as PNG files in ``folder``; returns their paths."""
    from .workflow import confusion_matrix

    os.makedirs(folder, exist_ok=True)
    model, (train, _, test) = result.model, result.splits
    paths = [plot_history(result.history, os.path.join(folder, "curves.png")),
             plot_network(model.network, os.path.join(folder, "network.png"))]
    if model.network.task == "classification":
        X, y = test if test is not None else train
        predicted = model.network.predict(model.prepare(X))
        n_classes = max(len(model.class_labels), int(y.max()) + 1)
        matrix = confusion_matrix(y, predicted, n_classes)
        labels = model.class_labels or list(range(n_classes))
        paths.append(plot_confusion_matrix(matrix, labels, os.path.join(folder, "confusion.png")))
        if result.dataset.X.shape[1] == 2:
            paths.append(plot_decision_boundary(model, result.dataset.X, result.dataset.y,
                                                os.path.join(folder, "boundary.png")))
    return paths
