"""What the playground teaches with (faces floor): the data it builds (noise, input features, train/validation/test split),
the maps it draws, the step-through's numbers and the dials a learner turns.

Library code the server calls through :mod:`glassnet.web.sessions`; every number comes from the engine.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import data as data_module
from ..datasets import DATASETS as REGISTRY
from ..datasets import GENERATORS
from ..errors import ConfigError
from ..trace import StepTrace, UnitNames

#: engine input features built from the raw coordinates (x1, x2): name -> (label, function of raw X)
FEATURES = {
    "x1": ("x1", lambda X: X[:, 0]),
    "x2": ("x2", lambda X: X[:, 1]),
    "x1sq": ("x1²", lambda X: X[:, 0] ** 2),
    "x2sq": ("x2²", lambda X: X[:, 1] ** 2),
    "x1x2": ("x1·x2", lambda X: X[:, 0] * X[:, 1]),
    "sinx1": ("sin x1", lambda X: np.sin(X[:, 0])),
    "sinx2": ("sin x2", lambda X: np.sin(X[:, 1])),
}
ONE_D_FEATURES = ("x1", "x1sq", "sinx1")   # the regression set has one raw input, x1
NOISY = {"moons": "noise", "circles": "noise", "spirals": "noise", "regression": "noise", "blobs": "spread"}
#: what the page offers, from the one dataset registry: the generated sets (2-D classification, drawn with a
#: boundary, and the 1-D regression curve) and the 8x8 digits
DATASETS = [name for name in GENERATORS if REGISTRY.info(name)["n_features"] == 2 or name == "regression"] + ["digits"]
TRUTH_TABLES = tuple(name for name in DATASETS if REGISTRY.info(name).get("tiny"))  # all rows train, no split
VALIDATION_FRACTION = 0.2   # of what the test split leaves
GRID = 40                   # decision-boundary resolution
UNIT_GRID = 16              # per-hidden-unit heat map resolution
UNITS_DRAWN = 16            # units per layer drawn (and sent) for the diagram and the unit maps
CURVE_POINTS = 120          # the regression curve's resolution
HISTORY_POINTS = 400        # the learning curves are downsampled to at most this many points
SNAPSHOT_WEIGHTS = 5000     # a step-through of a network up to this many weights sends every weight ...
STEP_UNITS = 16             # ... a larger one each layer's first 16 x 16 (the units the diagram draws)
STEP_ROWS = 8               # a step-through sends at least the batch's first 8 rows ...
STEP_VALUES = 16_384        # ... and more, up to this many per-sample numbers (every row of small batches)


def default_features(dataset: str) -> list[str]:
    return ["x1"] if dataset == "regression" else [] if dataset == "digits" else ["x1", "x2"]


def check_features(dataset: str, features) -> list[str]:
    """The engine's inputs for ``dataset``: a non-empty list of distinct FEATURES names (none for digits)."""
    if features is None:
        return default_features(dataset)
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise ConfigError(f"features must be a list of names, got {str(features)[:80]}")
    if dataset == "digits":
        if features:
            raise ConfigError("features apply to the 2-D datasets and regression; digits uses its 64 pixels")
        return []
    allowed = ONE_D_FEATURES if dataset == "regression" else tuple(FEATURES)
    wrong = [f for f in features if f not in allowed]
    if wrong or not features or len(set(features)) != len(features):
        raise ConfigError(f"features for {dataset} must be distinct names from {', '.join(allowed)}; got "
                          f"{str(features)[:80]}")
    return [f for f in FEATURES if f in features]   # one canonical order


def raw_data(config: dict):
    """The dataset's raw inputs and targets, generated with the config's noise and data seed."""
    name = config["dataset"]
    if name == "digits":
        dataset = data_module.load("digits")
        return dataset.X / 16.0, dataset.y
    make = GENERATORS[name][0]
    if name in TRUTH_TABLES:
        return make()
    options = {"n_samples": config["samples"], "seed": config["data_seed"]}
    if name in NOISY:  # blobs: noise is a tenth of the clusters' spread, so 0.1 gives the usual spread 1
        options[NOISY[name]] = config["noise"] * (10 if name == "blobs" else 1)
    return make(**options)


def engine_inputs(raw, features: list[str]):
    """The network's input matrix for raw points: one column per chosen feature (raw pixels for digits)."""
    if not features:
        return raw
    return np.column_stack([FEATURES[f][1](raw) for f in features])


@dataclass
class PlaygroundData:
    """One dataset split three ways; ``raw_*`` are the points as drawn, ``x_*`` what the network sees."""

    task: str
    n_classes: int
    raw_train: np.ndarray
    y_train: np.ndarray
    raw_validation: np.ndarray | None
    y_validation: np.ndarray | None
    raw_test: np.ndarray | None
    y_test: np.ndarray | None
    features: list

    def x(self, raw):
        return None if raw is None else engine_inputs(raw, self.features)

    @property
    def n_raw(self) -> int:
        return self.raw_train.shape[1]


def build_data(config: dict) -> PlaygroundData:
    raw, y = raw_data(config)
    task = "regression" if config["dataset"] == "regression" else "classification"
    n_classes = 0 if task == "regression" else max(int(y.max()) + 1, 2)
    if config["dataset"] in TRUTH_TABLES:
        return PlaygroundData(task, n_classes, raw, y, None, None, None, None, config["features"])
    test = config["test_fraction"]
    (train, validation, held_out) = data_module.split(raw, y, test=test, validation=(1 - test) * VALIDATION_FRACTION,
                                                      seed=config["data_seed"])
    return PlaygroundData(task, n_classes, *train, *(validation or (None, None)), *(held_out or (None, None)),
                          config["features"])


# ---- maps ------------------------------------------------------------------------------------------------
def extent_of(data: PlaygroundData) -> list[float]:
    points = [p for p in (data.raw_train, data.raw_test) if p is not None]
    both = np.vstack(points)
    low, high = both.min(axis=0), both.max(axis=0)
    pad = 0.15 * (high - low) + 1e-9
    return [float(v) for pair in zip(low - pad, high + pad) for v in pair]  # x0, x1[, y0, y1]


def grid_points(extent, resolution: int) -> np.ndarray:
    xs = np.linspace(extent[0], extent[1], resolution)
    ys = np.linspace(extent[2], extent[3], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return np.c_[gx.ravel(), gy.ravel()]


def _rounded(array, digits: int = 4) -> list:
    return np.round(np.asarray(array, dtype=float), digits).tolist()


def plane_maps(network, data: PlaygroundData) -> dict:
    """2-D data: every class's probability over the plane, the points, and every hidden unit's map."""
    extent = extent_of(data)
    grid = grid_points(extent, GRID)
    probabilities = network.predict_proba(data.x(grid))
    units = []
    hidden = data.x(grid_points(extent, UNIT_GRID))
    for layer in network.layers[:-1]:
        hidden = layer.predict(hidden)
        units.append([_rounded(hidden[:, j].reshape(UNIT_GRID, UNIT_GRID), 3)
                      for j in range(min(hidden.shape[1], UNITS_DRAWN))])
    return {"kind": "plane", "extent": extent,
            "classes": [_rounded(probabilities[:, c].reshape(GRID, GRID), 3) for c in range(probabilities.shape[1])],
            "unit_maps": units, **points_json(data)}


def curve_maps(network, data: PlaygroundData) -> dict:
    """1-D regression: the network's curve over the inputs' range, and the points."""
    extent = extent_of(data)
    xs = np.linspace(extent[0], extent[1], CURVE_POINTS)[:, None]
    return {"kind": "curve", "extent": extent, "curve_x": _rounded(xs[:, 0]),
            "curve_y": _rounded(np.asarray(network.predict(data.x(xs))).reshape(-1)), **points_json(data)}


DIGITS_SHOWN = 12  # test digits the page draws with the network's answer


def digit_maps(network, data: PlaygroundData) -> dict:
    """Digits: the first test images (8x8, ink 0..1) with their labels and the network's answers."""
    raw = data.raw_test[:DIGITS_SHOWN]
    return {"kind": "images", "images": _rounded(raw.reshape(-1, 8, 8), 3),
            "labels": np.asarray(data.y_test[:DIGITS_SHOWN]).tolist(),
            "answers": np.asarray(network.predict(data.x(raw))).tolist()}


def points_json(data: PlaygroundData) -> dict:
    test = data.raw_test is not None
    return {"points": _rounded(data.raw_train), "labels": np.asarray(data.y_train).tolist(),
            "test_points": _rounded(data.raw_test) if test else [],
            "test_labels": np.asarray(data.y_test).tolist() if test else []}


def diagram_json(network, features: list) -> dict:
    """The weights and biases the diagram draws (the first UNITS_DRAWN units of each layer) and every unit's
    name (seed 003's names, from the trace; inputs by their feature, x1² for instance, when features are chosen)."""
    names = UnitNames(network.sizes)
    shown = [min(n, UNITS_DRAWN) for n in network.sizes]
    units = [[names.unit(k, j + 1) for j in range(n)] for k, n in enumerate(network.sizes)]
    if features:
        units[0] = [FEATURES[f][0] for f in features]
    return {"names": units,
            "bias_names": [names.unit(k, 0) for k in range(len(network.layers))],
            "weights": [np.asarray(layer.W)[:shown[k], :shown[k + 1]].tolist()
                        for k, layer in enumerate(network.layers)],
            "biases": [np.asarray(layer.b)[:shown[k + 1]].tolist() for k, layer in enumerate(network.layers)]}


def downsampled(history) -> dict:
    """The whole history, at most HISTORY_POINTS evenly spaced epochs (always the first and the last)."""
    n = len(history.epochs)
    keep = np.unique(np.linspace(0, n - 1, min(n, HISTORY_POINTS)).round().astype(int)) if n else np.array([], int)
    pick = lambda values: [values[i] for i in keep] if len(values) == n else []  # noqa: E731
    return {k: pick(getattr(history, k)) for k in ("epochs", "loss", "accuracy", "val_loss", "val_accuracy")}


# ---- the step-through ------------------------------------------------------------------------------------
def _array(a) -> list | None:
    return None if a is None else np.asarray(a, dtype=float).tolist()


def trace_json(trace: StepTrace, applied: list, cost_after_applied: float, optimizer: str) -> dict:
    """The numbers of a traced step as plain JSON lists (floats round-trip exactly through JSON).

    ``applied``: each layer's (W, b) after the optimizer's real update; for plain SGD they equal W_new, b_new.
    The answer stays bounded whatever the batch or network: per-sample arrays carry the batch's first rows,
    as many as STEP_VALUES numbers allow (at least STEP_ROWS; every row of the page's usual batches), and a
    network of more than SNAPSHOT_WEIGHTS weights sends each layer's first STEP_UNITS units (the units the
    diagram draws) with norms of the whole matrices (every number of 6 x 64 units at batch 10,000 would be
    hundreds of megabytes).
    """
    whole = sum(r.W.size for r in trace.layers) <= SNAPSHOT_WEIGHTS
    units = slice(None) if whole else slice(0, STEP_UNITS)
    cut = lambda a: None if a is None else np.asarray(a)[:, units]  # noqa: E731 (per-sample: rows x units)
    per_row = cut(trace.x).shape[1] + cut(trace.y).shape[1] + sum(
        cut(r.x).shape[1] + 5 * cut(r.z).shape[1] for r in trace.layers)
    rows = min(trace.n_samples, max(STEP_ROWS, STEP_VALUES // per_row))
    first = lambda a: _array(None if a is None else cut(a)[:rows])  # noqa: E731
    square = lambda a: _array(np.asarray(a)[units, units])  # noqa: E731
    return {"learning_rate": trace.learning_rate, "cost_before": trace.cost_before, "cost_after": trace.cost_after,
            "cost_after_applied": cost_after_applied, "optimizer": optimizer, "n_samples": trace.n_samples,
            "rows_shown": rows, "batch_rows": trace.n_samples,
            "weights_shown": "all" if whole else f"the first {STEP_UNITS} x {STEP_UNITS} of each layer",
            "cost": trace.cost_name, "cost_formula": trace.cost_formula, "fused": bool(trace.fused), "l2": trace.l2,
            "l1": trace.l1, "x": first(trace.x), "y": first(trace.y),
            "layers": [{"index": r.index, "activation": r.activation, "x": first(r.x), "a": first(r.a),
                        "z": first(r.z), "grad_z": first(r.grad_z), "fprime": first(r.fprime),
                        "delta": first(r.delta), "W": square(r.W), "b": _array(r.b[units]),
                        "grad_W": square(r.grad_W), "grad_b": _array(r.grad_b[units]), "W_new": square(r.W_new),
                        "b_new": _array(r.b_new[units]), "W_applied": square(W), "b_applied": _array(b[units]),
                        "norms": {"W": float(np.linalg.norm(r.W)), "grad_W": float(np.linalg.norm(r.grad_W)),
                                  "W_new": float(np.linalg.norm(r.W_new))}}
                       for r, (W, b) in zip(trace.layers, applied)],
            "dials": [dial_json(d) for d in trace.dials(8)]}


def dial_json(dial) -> dict:
    return {"name": dial.name, "layer": dial.layer, "kind": dial.kind, "index": list(dial.index),
            "value": dial.value, "gradient": dial.gradient, "direction": dial.direction, "step": dial.step}


# ---- turning a dial --------------------------------------------------------------------------------------
def parameter_position(network, layer, kind, index) -> tuple[int, tuple]:
    """Check a dial's address from the page: layer 1..L, kind "W" (index [i, j]) or "b" (index [j])."""
    if isinstance(layer, bool) or not isinstance(layer, int) or not 1 <= layer <= len(network.layers):
        raise ConfigError(f"layer must be a whole number in 1..{len(network.layers)}, got {layer!r}")
    target = network.layers[layer - 1]
    shape = target.W.shape if kind == "W" else target.b.shape if kind == "b" else None
    if shape is None:
        raise ConfigError(f"kind must be 'W' or 'b', got {kind!r}")
    if not isinstance(index, list) or len(index) != len(shape) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n for i, n in zip(index, shape)):
        raise ConfigError(f"index must be {len(shape)} whole number(s) within {tuple(shape)}, got {str(index)[:40]}")
    return layer - 1, tuple(index)


class Dial:
    """One weight or bias a learner turns by hand (seed 000's control board).

    At selection it records the value w₀, the training cost C(w₀) and the gradient ∂C/∂w there (the engine's
    backward pass on the whole training set); each turn sets w = w₀ + Δw in the live network and reports the
    real cost next to the first-order prediction C(w₀) + ∂C/∂w·Δw.
    """

    def __init__(self, network, x, y, layer: int, kind: str, index: tuple):
        self.position, self.kind, self.index = layer, kind, index
        self.cost_at_origin = network.loss_and_grad(x, y)  # the engine's step: cost, and gradients in the store
        grads = network.layers[layer]
        self.gradient = float((grads.grad_W if kind == "W" else grads.grad_b)[index])
        self.origin = float(self.array(network)[index])
        self.name = UnitNames(network.sizes).weight(layer + 1, 0 if kind == "b" else index[0] + 1, index[-1] + 1)

    def array(self, network):
        layer = network.layers[self.position]
        return layer.W if self.kind == "W" else layer.b

    def same(self, layer: int, kind: str, index: tuple) -> bool:
        return (layer, kind, index) == (self.position, self.kind, self.index)

    def turn(self, network, x, y, delta: float) -> dict:
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not abs(delta) <= 100:
            raise ConfigError(f"delta must be a number in [-100, 100], got {delta!r}")
        self.array(network)[self.index] = self.origin + delta
        cost = network.loss(x, y)
        return {"name": self.name, "layer": self.position + 1, "kind": self.kind, "index": list(self.index),
                "origin": self.origin, "value": self.origin + delta, "delta": delta, "gradient": self.gradient,
                "cost_at_origin": self.cost_at_origin, "cost": cost, "real_change": cost - self.cost_at_origin,
                "predicted_change": self.gradient * delta}
