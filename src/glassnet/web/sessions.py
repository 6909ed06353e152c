"""Playground sessions: one network and trainer per browser tab, trained in short chunks (see lifetime.py).

Everything here is library code the server calls; the math is the engine's (never re-implemented in the page).
"""
from __future__ import annotations

import io
import os
import secrets
import tempfile
import threading
import time
import uuid
import zipfile

import numpy as np

from .. import data as data_module
from ..activations import ACTIVATIONS
from ..costs import COSTS
from ..datasets import DATASETS
from ..errors import ConfigError, GlassnetError, ModelFileError
from ..modelfile import Model, load_model, model_to_bytes
from ..network import Network
from ..optimizers import OPTIMIZERS
from ..trace import StepTrace, UnitNames, rank_dials
from ..training import Trainer

#: what the page offers, from the one dataset registry: the generated 2-D sets (drawn with a boundary)
#: and the 8x8 digits
PLAYGROUND_DATASETS = [name for name in DATASETS.names()
                       if DATASETS.info(name)["n_features"] == 2 and DATASETS.info(name)["task"] == "classification"
                       ] + ["digits"]
LIMITS = {"layers": 6, "units": 64, "batch_size": 10_000, "learning_rate": 10.0, "samples": 2000, "sessions": 64}
UNWATCHED_SECONDS = 120    # a training session nobody has looked at for this long pauses
PAUSE_SECONDS = 0.005      # training runs this long at most between two looks at the running flag
GRID = 40           # decision-boundary resolution
UNIT_GRID = 16      # per-hidden-unit heat map resolution
SNAPSHOT_WEIGHTS = 5000
MAX_UPLOAD_BYTES = 4 * 2 ** 20     # a model file the page may upload (the largest playground network is ~0.3 MB)
MAX_UNPACKED_BYTES = 8 * 2 ** 20   # ... and what its entries may unpack to together
MAX_UPLOAD_ENTRIES = 64
STEP_UNITS = 16     # ... and, for a network too large to send whole, each layer's first 16 x 16 weights
STEP_ROWS = 8       # a step-through answer carries the first rows of the batch (the page shows the first)


def options() -> dict:
    """What the page may choose from (straight from the registries)."""
    return {"datasets": PLAYGROUND_DATASETS, "activations": [a for a in ACTIVATIONS.names(aliases=False) if a != "softmax"],
            "costs": ["auto"] + COSTS.names(aliases=False), "optimizers": OPTIMIZERS.names(), "limits": LIMITS}


def _field(config: dict, name: str, kind, default, check=None, expected: str = ""):
    value = config.get(name, default)
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{name} must be a whole number, got {value!r}")
    if kind is float and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    if kind is str and not isinstance(value, str):
        raise ConfigError(f"{name} must be a string, got {value!r}")
    if check is not None and not check(value):
        raise ConfigError(f"{name} must be {expected}, got {value!r}")
    return value


def parse_config(config) -> dict:
    """Validate a session's settings; every problem is a ConfigError the server answers with 400."""
    if not isinstance(config, dict):
        raise ConfigError("the request body must be a JSON object of settings")
    unknown = set(config) - {"dataset", "hidden", "activation", "cost", "optimizer", "learning_rate", "batch_size",
                             "seed", "samples"}
    if unknown:
        raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
    dataset = _field(config, "dataset", str, "xor", lambda v: v in PLAYGROUND_DATASETS,
                     f"one of {', '.join(PLAYGROUND_DATASETS)}")
    hidden = config.get("hidden", [4])
    if not isinstance(hidden, list) or len(hidden) > LIMITS["layers"] or not all(
            isinstance(h, int) and not isinstance(h, bool) and 1 <= h <= LIMITS["units"] for h in hidden):
        raise ConfigError(f"hidden must be a list of at most {LIMITS['layers']} layer sizes, each 1..{LIMITS['units']};"
                          f" got {str(hidden)[:80]}")
    return {
        "dataset": dataset, "hidden": hidden,
        "activation": _field(config, "activation", str, "tanh", lambda v: v in ACTIVATIONS and v != "softmax",
                             f"one of {', '.join(options()['activations'])}"),
        "cost": _field(config, "cost", str, "auto", lambda v: v == "auto" or v in COSTS,
                       f"one of {', '.join(options()['costs'])}"),
        "optimizer": _field(config, "optimizer", str, "sgd", lambda v: v in OPTIMIZERS, f"one of {OPTIMIZERS.names()}"),
        "learning_rate": float(_field(config, "learning_rate", float, 0.1,
                                      lambda v: 0 < v <= LIMITS["learning_rate"] and np.isfinite(v),
                                      f"a number in (0, {LIMITS['learning_rate']}]")),
        "batch_size": _field(config, "batch_size", int, 32, lambda v: 1 <= v <= LIMITS["batch_size"],
                             f"a whole number in 1..{LIMITS['batch_size']}"),
        "seed": _field(config, "seed", int, 0, lambda v: 0 <= v < 2 ** 32, "a whole number in 0..2^32-1"),
        "samples": _field(config, "samples", int, 400, lambda v: 8 <= v <= LIMITS["samples"],
                          f"a whole number in 8..{LIMITS['samples']}"),
    }


class Session:
    """A network being trained for one tab."""

    def __init__(self, config: dict, wake=None):
        self.id = uuid.uuid4().hex
        self.token = secrets.token_urlsafe(24)  # the page sends it with every change; never put in a URL
        self.config = parse_config(config)
        self.lock = threading.RLock()
        self.running = False
        self.wake = wake or (lambda: None)     # tells the training worker this session wants to run
        self.version = 0
        self.touched = time.monotonic()
        self.client, self.released_at = "local", None
        self.error: str | None = None
        self.step_seconds = 1e-3  # how long one training step takes here (a running estimate)
        self.reset()

    # ---- lifecycle ---------------------------------------------------------------------------------
    def reset(self) -> None:
        self.pause()
        c = self.config
        with self.lock:
            dataset = data_module.load(c["dataset"], seed=c["seed"], n_samples=c["samples"])
            X = dataset.X / 16.0 if c["dataset"] == "digits" else dataset.X
            self.dataset, self.two_d = dataset, X.shape[1] == 2
            n_classes = max(dataset.n_classes, 2)
            if X.shape[0] >= 40:
                (self.X, self.y), validation, _ = data_module.split(X, dataset.y, test=0.0, validation=0.2,
                                                                    seed=c["seed"])
                self.validation = validation
            else:
                self.X, self.y, self.validation = X, dataset.y, None
            cost = None if c["cost"] == "auto" else c["cost"]
            self.network = Network([X.shape[1], *c["hidden"], n_classes], activation=c["activation"],
                                   output="softmax", cost=cost, seed=c["seed"])
            self._new_trainer()
            self.error = None
            self.bump()

    def _new_trainer(self) -> None:
        """A trainer with its run begun: the worker's chunks go on with it (begin checks the data once)."""
        c = self.config
        self.trainer = Trainer(self.network, c["optimizer"], c["learning_rate"], min(c["batch_size"], len(self.X)))
        self.trainer.begin(self.X, self.y, self.validation)

    def bump(self) -> None:
        """A new state to publish (training is not activity: only requests from the page touch a session)."""
        self.version += 1

    def start(self) -> None:
        with self.lock:
            if not self.running:
                self.running, self.error = True, None
                self.bump()
        self.wake()

    def pause(self) -> None:
        """Stop training; returns once the steps in progress (about PAUSE_SECONDS) have finished."""
        was_running, self.running = self.running, False  # the chunk in progress stops at its next look
        with self.lock:  # ... and holds the lock until then
            if was_running:
                self.bump()

    def train_chunk(self, seconds: float) -> None:
        """Train for about ``seconds``: whole steps through ``Trainer.train(max_steps=...)``, a few
        milliseconds' worth at a time so a pause waits for no more than that; an epoch may stop part way
        and go on at the next chunk. Called by the training worker only; it holds the session's lock, so
        nothing sees a half-made step."""
        with self.lock:
            if not self.running:
                return
            if time.monotonic() - self.touched > UNWATCHED_SECONDS:
                self.running = False  # nobody is watching (the tab was closed): stop using the CPU
                self.bump()
                return
            deadline = time.monotonic() + seconds
            try:
                while self.running and (now := time.monotonic()) < deadline:
                    steps = max(1, int(min(deadline - now, PAUSE_SECONDS) / self.step_seconds))
                    self.trainer.train(max_steps=steps)
                    self.step_seconds = 0.5 * self.step_seconds + 0.5 * (time.monotonic() - now) / steps
            except GlassnetError as exc:
                self.error, self.running = str(exc), False
            self.bump()

    # ---- what the page shows -----------------------------------------------------------------------
    def snapshot(self) -> dict:
        with self.lock:
            net, history = self.network, self.trainer.history
            out = {"id": self.id, "version": self.version, "running": self.running, "error": self.error,
                   "config": self.config, "sizes": net.sizes, "network": repr(net),
                   "activations": [layer.activation.name for layer in net.layers],
                   "epoch": self.trainer.epoch, "n_samples": int(len(self.X)),
                   "history": {k: getattr(history, k)[-500:] for k in ("epochs", "loss", "accuracy", "val_loss",
                                                                      "val_accuracy")}}
            if net.n_weights <= SNAPSHOT_WEIGHTS:
                out["weights"] = [layer.W.tolist() for layer in net.layers]
                out["biases"] = [layer.b.tolist() for layer in net.layers]
                out["gradients"] = [layer.grad_W.tolist() for layer in net.layers]
                out["bias_gradients"] = [layer.grad_b.tolist() for layer in net.layers]
            if self.two_d:
                out.update(self._maps())
            out["dials"] = self._dials()
        return out

    def _grid(self, resolution: int):
        low, high = self.X.min(axis=0), self.X.max(axis=0)
        pad = 0.15 * (high - low) + 1e-9
        xs = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
        ys = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
        gx, gy = np.meshgrid(xs, ys)
        return np.c_[gx.ravel(), gy.ravel()], [float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1])]

    def _maps(self) -> dict:
        net = self.network
        grid, extent = self._grid(GRID)
        probability = net.predict_proba(grid)[:, 1].reshape(GRID, GRID)
        unit_grid, _ = self._grid(UNIT_GRID)
        units = net.layers[0].predict(unit_grid) if len(net.layers) > 1 else None
        return {"extent": extent, "boundary": np.round(probability, 4).tolist(),
                "points": np.round(self.X, 4).tolist(), "labels": self.y.tolist(),
                "unit_maps": None if units is None else [np.round(units[:, j].reshape(UNIT_GRID, UNIT_GRID), 4).tolist()
                                                         for j in range(units.shape[1])]}

    def _dials(self, top: int = 8) -> list:
        """The last batch's largest gradients, ranked as the trace ranks them."""
        layers = self.network.layers
        if self.trainer.optimizer.t == 0:  # no step yet: no gradients to rank
            return []
        return [dial_json(d) for d in rank_dials(layers, UnitNames(self.network.sizes), self.config["learning_rate"], top)]

    # ---- step-through ------------------------------------------------------------------------------
    def step_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The batch a step-through step uses: the first batch_size training samples, in order."""
        n = min(self.config["batch_size"], len(self.X))
        return self.X[:n], self.y[:n]

    def step(self) -> dict:
        """One training step with every number recorded: the engine's trace of the forward and backward pass,
        then the trainer's real optimizer step from the gradients that pass left in the parameter store."""
        self.pause()
        with self.lock:
            x, y = self.step_rows()
            trace = StepTrace(self.network, x, y, self.config["learning_rate"])
            self.trainer.apply_gradients()
            self.bump()
            return trace_json(trace)

    # ---- model files -------------------------------------------------------------------------------
    def model_bytes(self) -> bytes:
        with self.lock:
            return model_to_bytes(Model(self.network.copy(), None, self.dataset.class_labels,
                                        self.dataset.feature_names, {"playground": self.config}))

    def load_bytes(self, content: bytes) -> None:
        model = read_uploaded_model(content)
        self.pause()
        with self.lock:
            if model.network.n_inputs != self.X.shape[1] or model.network.n_outputs != self.network.n_outputs:
                raise ConfigError(f"this model has {model.network.n_inputs} inputs and {model.network.n_outputs} "
                                  f"outputs; the {self.config['dataset']} dataset needs {self.X.shape[1]} and "
                                  f"{self.network.n_outputs}")
            self.network = model.network
            self.config["hidden"] = model.network.sizes[1:-1]
            self._new_trainer()
            self.bump()


UPLOAD_NAME = "the uploaded model file"


def read_uploaded_model(content: bytes) -> Model:
    """Load a model file sent by the page through the hardened loader; errors name no server path.

    The bytes go to a private temporary folder (the loader reads files), which is removed afterwards.
    Anything the loader did not foresee in a hostile file is still a ModelFileError, never a crash.
    """
    if len(content) > MAX_UPLOAD_BYTES:
        raise ModelFileError(f"{UPLOAD_NAME} is larger than {MAX_UPLOAD_BYTES // 2 ** 20} MB")
    check_upload_archive(content)
    with tempfile.TemporaryDirectory(prefix="glassnet-upload-") as folder:
        path = os.path.join(folder, "model.npz")
        with open(path, "wb") as handle:
            handle.write(content)
        try:
            return load_model(path)
        except GlassnetError as exc:
            raise ModelFileError(str(exc).replace(path, UPLOAD_NAME)) from None
        except (LookupError, ValueError, TypeError, OverflowError, RecursionError, MemoryError) as exc:
            raise ModelFileError(f"{UPLOAD_NAME} is malformed ({type(exc).__name__})") from None


def check_upload_archive(content: bytes) -> None:
    """Refuse, before anything is unpacked, an archive whose entries would unpack to more than a playground
    network can need (the loader's own caps are sized for models of any size)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
    except Exception:  # not a zip at all: the loader says so in its own words
        return
    if len(entries) > MAX_UPLOAD_ENTRIES:
        raise ModelFileError(f"{UPLOAD_NAME} holds {len(entries):,} entries; a playground model has at most "
                             f"{MAX_UPLOAD_ENTRIES}")
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > MAX_UNPACKED_BYTES:
        raise ModelFileError(f"{UPLOAD_NAME} would unpack to {unpacked:,} bytes; a playground model needs at "
                             f"most {MAX_UNPACKED_BYTES:,}")


def _array(a) -> list:
    return np.asarray(a, dtype=float).tolist()


def trace_json(trace: StepTrace, rows: int = STEP_ROWS) -> dict:
    """The trace's numbers as plain JSON lists (per layer: a, z, delta, W before/after, gradients).

    Per-sample arrays (x, y, a, z, delta) carry only the batch's first ``rows`` rows. A network with more
    than SNAPSHOT_WEIGHTS weights sends each layer's first STEP_UNITS x STEP_UNITS weights (the units the
    page draws) with norms of the whole matrices: the answer stays under ~0.3 MB, encoded in milliseconds,
    whatever the batch size or network (every weight of 6 x 64 units took 1.6 MB and 0.3 s to encode).
    """
    first = slice(0, rows)
    whole = sum(r.W.size for r in trace.layers) <= SNAPSHOT_WEIGHTS
    units = slice(None) if whole else slice(0, STEP_UNITS)
    return {"learning_rate": trace.learning_rate, "cost_before": trace.cost_before, "cost_after": trace.cost_after,
            "cost": trace.cost_name, "batch_rows": int(trace.x.shape[0]), "rows_shown": min(rows, trace.x.shape[0]),
            "weights_shown": "all" if whole else f"the first {STEP_UNITS} x {STEP_UNITS} of each layer",
            "x": _array(trace.x[first]), "y": _array(trace.y[first]),
            "layers": [{"index": r.index, "activation": r.activation, "a": _array(r.a[first]),
                        "z": _array(r.z[first]), "delta": _array(r.delta[first]),
                        "W": _array(r.W[units, units]), "b": _array(r.b[units]),
                        "grad_W": _array(r.grad_W[units, units]), "grad_b": _array(r.grad_b[units]),
                        "W_new": _array(r.W_new[units, units]), "b_new": _array(r.b_new[units]),
                        "norms": {"W": float(np.linalg.norm(r.W)), "grad_W": float(np.linalg.norm(r.grad_W)),
                                  "W_new": float(np.linalg.norm(r.W_new))}}
                       for r in trace.layers],
            "dials": [dial_json(d) for d in trace.dials(8)]}


def dial_json(dial) -> dict:
    return {"name": dial.name, "layer": dial.layer, "value": dial.value, "gradient": dial.gradient,
            "direction": dial.direction, "step": dial.step}
