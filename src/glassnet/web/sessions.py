"""Playground sessions: one network, trainer and training thread per browser tab.

Everything here is library code the server calls; the math is the engine's (never re-implemented in the page).
"""
from __future__ import annotations

import os
import tempfile
import threading
import time
import uuid

import numpy as np

from .. import data as data_module
from ..activations import ACTIVATIONS
from ..costs import COSTS
from ..datasets import DATASETS
from ..errors import ConfigError, GlassnetError
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
IDLE_SECONDS = 20 * 60     # a session nobody has touched for this long is deleted
UNWATCHED_SECONDS = 120    # a training session nobody has looked at for this long pauses
GRID = 40           # decision-boundary resolution
UNIT_GRID = 16      # per-hidden-unit heat map resolution
SNAPSHOT_WEIGHTS = 5000
STEPS_PER_CHUNK = 4  # training steps between checks of pause and the 50 ms publishing deadline


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

    def __init__(self, config: dict):
        self.id = uuid.uuid4().hex
        self.config = parse_config(config)
        self.lock = threading.RLock()
        self.running = False
        self.thread: threading.Thread | None = None
        self.version = 0
        self.touched = time.monotonic()
        self.error: str | None = None
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
        c = self.config
        self.trainer = Trainer(self.network, c["optimizer"], c["learning_rate"], min(c["batch_size"], len(self.X)))
        self.trainer.begin(self.X, self.y, self.validation)

    def bump(self) -> None:
        """A new state to publish (training is not activity: only requests from the page touch a session)."""
        self.version += 1

    def start(self) -> None:
        with self.lock:
            if self.running:
                return
            self.running = True
            self.thread = threading.Thread(target=self._train_loop, name=f"glassnet-{self.id[:8]}", daemon=True)
            self.thread.start()

    def pause(self) -> None:
        self.running = False
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self.thread = None

    def _train_loop(self) -> None:
        """Train in chunks of a few steps through the trainer's loop for about 50 ms, publishing a new
        version after each chunk (so pause acts within a few steps, not an epoch)."""
        while self.running:
            if time.monotonic() - self.touched > UNWATCHED_SECONDS:
                self.running = False  # nobody is watching (the tab was closed): stop using the CPU
                break
            with self.lock:
                deadline = time.monotonic() + 0.05
                try:
                    while time.monotonic() < deadline and self.running:
                        self.trainer.train(max_steps=STEPS_PER_CHUNK)
                except GlassnetError as exc:
                    self.error, self.running = str(exc), False
                self.bump()
            time.sleep(0.005)

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
        if len(content) > 64 * 2 ** 20:
            raise ConfigError("model file too large for the playground (64 MB at most)")
        self.pause()
        folder = tempfile.mkdtemp(prefix="glassnet-")
        path = os.path.join(folder, "upload.npz")
        try:
            with open(path, "wb") as handle:
                handle.write(content)
            model = load_model(path)
        finally:
            if os.path.exists(path):
                os.unlink(path)
            os.rmdir(folder)
        with self.lock:
            if model.network.n_inputs != self.X.shape[1] or model.network.n_outputs != self.network.n_outputs:
                raise ConfigError(f"this model has {model.network.n_inputs} inputs and {model.network.n_outputs} "
                                  f"outputs; the {self.config['dataset']} dataset needs {self.X.shape[1]} and "
                                  f"{self.network.n_outputs}")
            self.network = model.network
            self.config["hidden"] = model.network.sizes[1:-1]
            self._new_trainer()
            self.bump()


def _array(a) -> list:
    return np.asarray(a, dtype=float).tolist()


def trace_json(trace: StepTrace) -> dict:
    """The trace's numbers as plain JSON lists (per layer: a, z, delta, W before/after, gradients)."""
    return {"learning_rate": trace.learning_rate, "cost_before": trace.cost_before, "cost_after": trace.cost_after,
            "cost": trace.cost_name, "x": _array(trace.x), "y": _array(trace.y),
            "layers": [{"index": r.index, "activation": r.activation, "a": _array(r.a), "z": _array(r.z),
                        "delta": _array(r.delta), "W": _array(r.W), "b": _array(r.b), "grad_W": _array(r.grad_W),
                        "grad_b": _array(r.grad_b), "W_new": _array(r.W_new), "b_new": _array(r.b_new)}
                       for r in trace.layers],
            "dials": [dial_json(d) for d in trace.dials(8)]}


def dial_json(dial) -> dict:
    return {"name": dial.name, "layer": dial.layer, "value": dial.value, "gradient": dial.gradient,
            "direction": dial.direction, "step": dial.step}


class SessionStore:
    """All live sessions, with an idle timeout and a cap on their number."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS, limit: int = LIMITS["sessions"]):
        self.sessions: dict[str, Session] = {}
        self.idle_seconds, self.limit = idle_seconds, limit
        self.lock = threading.Lock()

    def create(self, config) -> Session:
        self.clean()
        with self.lock:
            if len(self.sessions) >= self.limit:
                raise OverflowError(f"too many playground sessions ({self.limit}); close a tab or try later")
        session = Session(config)
        with self.lock:
            self.sessions[session.id] = session
        return session

    def get(self, session_id: str) -> Session | None:
        session = self.sessions.get(session_id)
        if session is not None:
            session.touched = time.monotonic()
        return session

    def remove(self, session_id: str) -> bool:
        with self.lock:
            session = self.sessions.pop(session_id, None)
        if session is not None:
            session.pause()
        return session is not None

    def clean(self) -> int:
        """Drop sessions idle for longer than ``idle_seconds``; returns how many."""
        now = time.monotonic()
        stale = [sid for sid, s in list(self.sessions.items()) if now - s.touched > self.idle_seconds]
        for sid in stale:
            self.remove(sid)
        return len(stale)

    def close(self) -> None:
        for sid in list(self.sessions):
            self.remove(sid)
