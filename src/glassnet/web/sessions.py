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

from ..activations import ACTIVATIONS
from ..costs import COSTS
from ..errors import ConfigError, GlassnetError
from ..modelfile import Model, load_model, model_to_bytes
from ..network import Network
from ..optimizers import OPTIMIZERS, get_optimizer
from ..trace import StepTrace, UnitNames, rank_dials
from ..training import Trainer
from .teaching import (DATASETS, FEATURES, NOISY, REGISTRY, TRUTH_TABLES, Dial, build_data, check_features,
                       curve_maps, diagram_json, digit_maps, dial_json, downsampled, parameter_position, plane_maps, trace_json)

LIMITS = {"layers": 6, "units": 64, "batch_size": 10_000, "learning_rate": 10.0, "samples": 2000, "sessions": 64,
          "noise": 0.5, "l2": 1.0, "l1": 1.0, "speed": 1000}
IDLE_SECONDS = 20 * 60     # a session nobody has touched for this long is deleted
UNWATCHED_SECONDS = 120    # a training session nobody has looked at for this long pauses
HISTORY_KEPT = 8000        # past this many epochs the history keeps every other one (the whole run, thinned)
STEPS_PER_CHUNK = 4        # training steps between checks of pause and the 50 ms publishing deadline
#: settings that change live, keeping the network; any other change builds a new network
LIVE = ("learning_rate", "optimizer", "batch_size", "l2", "l1", "speed")


def options() -> dict:
    """What the page may choose from (straight from the registries)."""
    return {"datasets": DATASETS, "activations": [a for a in ACTIVATIONS.names(aliases=False) if a != "softmax"],
            "costs": ["auto"] + COSTS.names(aliases=False), "optimizers": OPTIMIZERS.names(), "limits": LIMITS,
            "features": {name: label for name, (label, _) in FEATURES.items()}, "live": list(LIVE),
            "noisy": sorted(NOISY), "truth_tables": list(TRUTH_TABLES),
            "descriptions": {name: REGISTRY.info(name)["description"] for name in DATASETS}}


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


def _number(config: dict, name: str, default: float, low: float, high: float, open_low: bool = False) -> float:
    inside = (lambda v: low < v <= high) if open_low else (lambda v: low <= v <= high)
    bounds = f"({low}, {high}]" if open_low else f"[{low}, {high}]"
    return float(_field(config, name, float, default, lambda v: np.isfinite(v) and inside(v), f"a number in {bounds}"))


def live_settings(config: dict) -> dict:
    """The settings that change without a new network, validated."""
    return {
        "optimizer": _field(config, "optimizer", str, "sgd", lambda v: v in OPTIMIZERS, f"one of {OPTIMIZERS.names()}"),
        "learning_rate": _number(config, "learning_rate", 0.1, 0, LIMITS["learning_rate"], open_low=True),
        "batch_size": _field(config, "batch_size", int, 32, lambda v: 1 <= v <= LIMITS["batch_size"],
                             f"a whole number in 1..{LIMITS['batch_size']}"),
        "l2": _number(config, "l2", 0.0, 0, LIMITS["l2"]),
        "l1": _number(config, "l1", 0.0, 0, LIMITS["l1"]),
        "speed": _field(config, "speed", int, 0, lambda v: 0 <= v <= LIMITS["speed"],
                        f"steps per second, a whole number in 0..{LIMITS['speed']} (0: full speed)"),
    }


def parse_config(config) -> dict:
    """Validate a session's settings; every problem is a ConfigError the server answers with 400."""
    if not isinstance(config, dict):
        raise ConfigError("the request body must be a JSON object of settings")
    unknown = set(config) - {"dataset", "hidden", "activation", "cost", "seed", "samples", "noise", "test_fraction",
                             "data_seed", "features", *LIVE}
    if unknown:
        raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
    dataset = _field(config, "dataset", str, "xor", lambda v: v in DATASETS, f"one of {', '.join(DATASETS)}")
    hidden = config.get("hidden", [4])
    if not isinstance(hidden, list) or len(hidden) > LIMITS["layers"] or not all(
            isinstance(h, int) and not isinstance(h, bool) and 1 <= h <= LIMITS["units"] for h in hidden):
        raise ConfigError(f"hidden must be a list of at most {LIMITS['layers']} layer sizes, each 1..{LIMITS['units']};"
                          f" got {str(hidden)[:80]}")
    return {
        "dataset": dataset, "hidden": hidden, "features": check_features(dataset, config.get("features")),
        "activation": _field(config, "activation", str, "tanh", lambda v: v in ACTIVATIONS and v != "softmax",
                             f"one of {', '.join(options()['activations'])}"),
        "cost": _field(config, "cost", str, "auto", lambda v: v == "auto" or v in COSTS,
                       f"one of {', '.join(options()['costs'])}"),
        "seed": _field(config, "seed", int, 0, lambda v: 0 <= v < 2 ** 32, "a whole number in 0..2^32-1"),
        "data_seed": _field(config, "data_seed", int, 0, lambda v: 0 <= v < 2 ** 32, "a whole number in 0..2^32-1"),
        "samples": _field(config, "samples", int, 400, lambda v: 8 <= v <= LIMITS["samples"],
                          f"a whole number in 8..{LIMITS['samples']}"),
        "noise": _number(config, "noise", 0.1, 0, LIMITS["noise"]),
        "test_fraction": _number(config, "test_fraction", 0.3, 0.1, 0.9),
        **live_settings(config),
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
        """A new network, data and trainer from the config (the page itself starts a new session for every
        dataset or architecture change, so the controls shown are what a network is built from)."""
        self.pause()
        c = self.config
        with self.lock:
            self.data = build_data(c)
            self.X, self.y = self.data.x(self.data.raw_train), self.data.y_train
            self.validation = None if self.data.raw_validation is None else (
                self.data.x(self.data.raw_validation), self.data.y_validation)
            self.test = None if self.data.raw_test is None else (self.data.x(self.data.raw_test), self.data.y_test)
            classify = self.data.task == "classification"
            cost = None if c["cost"] == "auto" else c["cost"]
            self.network = Network([self.X.shape[1], *c["hidden"], self.data.n_classes if classify else 1],
                                   activation=c["activation"], output="softmax" if classify else "identity",
                                   cost=cost, seed=c["seed"], l2=c["l2"], l1=c["l1"])
            self._new_trainer()
            self.error = None
            self.bump()

    def _new_trainer(self) -> None:
        c = self.config
        self.trainer = Trainer(self.network, c["optimizer"], c["learning_rate"], min(c["batch_size"], len(self.X)))
        self.trainer.begin(self.X, self.y, validation_data=self.validation)
        self.steps_traced, self.steps, self.dial = 0, 0, None

    def change(self, settings) -> None:
        """Change the live settings (learning rate, optimizer, batch size, L2, L1, speed) keeping the network."""
        if not isinstance(settings, dict) or set(settings) - set(LIVE):
            raise ConfigError(f"only {', '.join(LIVE)} change live; got {str(settings)[:80]}")
        with self.lock:
            live = live_settings({**{k: self.config[k] for k in LIVE}, **settings})
            if live["optimizer"] != self.config["optimizer"]:
                self.trainer.optimizer = get_optimizer(live["optimizer"])  # fresh state for the new rule
            self.trainer.learning_rate = live["learning_rate"]
            self.trainer.batch_size = min(live["batch_size"], len(self.X))
            self.network.l2, self.network.l1 = live["l2"], live["l1"]
            self.config.update(live)
            self.bump()

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
        """Train through the trainer's own loop in chunks of about 50 ms (or one step per tick at a set speed
        in steps per second), publishing a new version after each chunk."""
        while self.running:
            if time.monotonic() - self.touched > UNWATCHED_SECONDS:
                self.running = False  # nobody is watching (the tab was closed): stop using the CPU
                break
            speed = self.config["speed"]
            with self.lock:
                deadline = time.monotonic() + 0.05
                try:
                    while self.running:
                        self.trainer.train(max_steps=1 if speed else STEPS_PER_CHUNK)
                        self.steps += 1 if speed else STEPS_PER_CHUNK
                        if speed or time.monotonic() >= deadline:
                            break
                    thin_history(self.trainer.history)
                except GlassnetError as exc:
                    self.error, self.running = str(exc), False
                self.bump()
            time.sleep(1 / speed if speed else 0.005)

    # ---- what the page shows -----------------------------------------------------------------------
    def snapshot(self) -> dict:
        with self.lock:
            net = self.network
            out = {"id": self.id, "version": self.version, "running": self.running, "error": self.error,
                   "config": self.config, "sizes": net.sizes, "network": repr(net), "task": self.data.task,
                   "activations": [layer.activation.name for layer in net.layers],
                   "epoch": self.trainer.epoch, "steps": self.steps, "n_samples": int(len(self.X)),
                   "history": downsampled(self.trainer.history), "scores": self._scores(),
                   **diagram_json(net, self.config["features"])}
            if self.data.task == "regression":
                out["map"] = curve_maps(net, self.data)
            elif self.data.n_raw == 2:
                out["map"] = plane_maps(net, self.data)
            else:
                out["map"] = digit_maps(net, self.data)
            out["dials"] = self._dials()
        return out

    def _scores(self) -> dict:
        """The cost (and accuracy) of the network as it is now on each split."""
        splits = {"train": (self.X, self.y), "validation": self.validation, "test": self.test}
        return {name: None if pair is None else self.network.evaluate(*pair) for name, pair in splits.items()}

    def _dials(self, top: int = 8) -> list:
        """The last batch's largest gradients, ranked as the trace ranks them."""
        layers = self.network.layers
        if any(layer.grad_W is None for layer in layers):
            return []
        names = UnitNames(self.network.sizes)
        return [dial_json(d) for d in rank_dials(layers, names, self.config["learning_rate"], top)]

    # ---- step-through ------------------------------------------------------------------------------
    def step_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The batch the next step-through step uses: batch_size training samples in order, one batch on
        from the last traced step (wrapping round)."""
        n = min(self.config["batch_size"], len(self.X))
        rows = (self.steps_traced * n + np.arange(n)) % len(self.X)
        return self.X[rows], self.y[rows]

    def step(self) -> dict:
        """One real optimizer step with every number recorded: the engine traces forward and backward on the
        batch, then the trainer applies its optimizer to exactly those gradients."""
        self.pause()
        with self.lock:
            x, y = self.step_rows()
            trace = StepTrace(self.network, x, y, self.trainer.current_learning_rate)  # leaves the gradients
            self.trainer.apply_gradients()
            applied = [(layer.W.copy(), layer.b.copy()) for layer in self.network.layers]
            self.steps_traced += 1
            self.steps += 1
            self.dial = None
            self.bump()
            return trace_json(trace, applied, self.network.loss(x, y), self.config["optimizer"])

    # ---- dials -------------------------------------------------------------------------------------
    def turn_dial(self, request) -> dict:
        """Set one weight or bias to its value at selection + Δw; the real and the predicted cost change."""
        if not isinstance(request, dict):
            raise ConfigError("a dial request is a JSON object {layer, kind, index, delta}")
        self.pause()
        with self.lock:
            layer, index = parameter_position(self.network, request.get("layer"), request.get("kind"),
                                              request.get("index"))
            if self.dial is None or not self.dial.same(layer, request["kind"], index):
                self.dial = Dial(self.network, self.X, self.y, layer, request["kind"], index)
            turned = self.dial.turn(self.network, self.X, self.y, request.get("delta"))
            self.bump()
        return {"dial": turned, "snapshot": self.snapshot()}

    # ---- model files -------------------------------------------------------------------------------
    def model_bytes(self) -> bytes:
        with self.lock:
            labels = [str(c) for c in range(self.data.n_classes)]
            names = [FEATURES[f][0] for f in self.config["features"]] or \
                [f"pixel{i + 1}" for i in range(self.X.shape[1])]
            return model_to_bytes(Model(self.network.copy(), None, labels, names, {"playground": self.config}))

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
            trained_on = model.training.get("playground", {}) if isinstance(model.training, dict) else {}
            for key in ("dataset", "features"):
                if key in trained_on and trained_on[key] != self.config[key]:
                    raise ConfigError(f"this model was trained in the playground with {key} {trained_on[key]!r}; "
                                      f"this session has {self.config[key]!r}: choose that first, then load it")
            self.network = model.network
            self.config["hidden"] = model.network.sizes[1:-1]
            self._new_trainer()
            self.bump()


def thin_history(history) -> None:
    """Keep a long run's whole history in bounded memory: past HISTORY_KEPT epochs, drop every other one."""
    if len(history.epochs) <= HISTORY_KEPT:
        return
    for name in ("epochs", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"):
        values = getattr(history, name)
        if len(values) == len(history.epochs):
            values[:] = values[::2]


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
