"""Playground sessions (faces floor): one network and trainer per browser tab, trained in short chunks (see lifetime.py).

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

from ..activations import ACTIVATIONS
from ..costs import COSTS
from ..errors import ConfigError, GlassnetError, ModelFileError
from ..modelfile import Model, load_model, model_to_bytes
from ..network import Network
from ..optimizers import OPTIMIZERS, get_optimizer
from ..trace import StepTrace, UnitNames, rank_dials
from ..training import Trainer
from .teaching import (DATASETS, FEATURES, NOISY, REGISTRY, TRUTH_TABLES, Dial, build_data, check_features,
                       curve_maps, diagram_json, digit_maps, dial_json, downsampled, parameter_position, plane_maps, trace_json)

LIMITS = {"layers": 6, "units": 64, "batch_size": 10_000, "learning_rate": 10.0, "samples": 2000, "sessions": 64,
          "noise": 0.5, "l2": 1.0, "l1": 1.0, "speed": 1000}
UNWATCHED_SECONDS = 120    # a training session nobody has looked at for this long pauses
PAUSE_SECONDS = 0.005      # training runs this long at most between two looks at the running flag
HISTORY_KEPT = 8000        # past this many epochs the history keeps every other one (the whole run, thinned)
MAX_UPLOAD_BYTES = 4 * 2 ** 20     # a model file the page may upload (the largest playground network is ~0.3 MB)
MAX_UNPACKED_BYTES = 8 * 2 ** 20   # ... and what its entries may unpack to together
MAX_UPLOAD_ENTRIES = 64
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
        self.next_step_at = 0.0   # at a set speed: when the next step is due
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
        """A trainer with its run begun: the worker's chunks go on with it (begin checks the data once)."""
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
            self.next_step_at = 0.0  # a new speed counts from now
            self.bump()
        if self.running:
            self.wake()  # a sleeping worker (waiting for a slow speed's next step) takes the new speed at once

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

    def train_chunk(self, seconds: float) -> float:
        """Train for about ``seconds``: whole steps through ``Trainer.train(max_steps=...)``, a few
        milliseconds' worth at a time so a pause waits for no more than that; an epoch may stop part way
        and go on at the next chunk. At a set speed (steps per second) only the steps now due are taken.
        Called by the training worker only; it holds the session's lock, so nothing sees a half-made step.
        Returns how many seconds until this session has work again (0: at once)."""
        with self.lock:
            if not self.running:
                return 0.0
            if time.monotonic() - self.touched > UNWATCHED_SECONDS:
                self.running = False  # nobody is watching (the tab was closed): stop using the CPU
                self.bump()
                return 0.0
            speed = self.config["speed"]
            due = self.steps_due(speed) if speed else None
            if due == 0:
                return self.next_step_at - time.monotonic()
            deadline = time.monotonic() + seconds
            try:
                while self.running and (now := time.monotonic()) < deadline and due != 0:
                    steps = max(1, int(min(deadline - now, PAUSE_SECONDS) / self.step_seconds))
                    steps = steps if due is None else min(steps, due)
                    self.trainer.train(max_steps=steps)
                    self.steps += steps
                    due = None if due is None else due - steps
                    self.step_seconds = 0.5 * self.step_seconds + 0.5 * (time.monotonic() - now) / steps
                thin_history(self.trainer.history)
            except GlassnetError as exc:
                self.error, self.running = str(exc), False
            self.bump()
            return 0.0 if not speed else max(0.0, self.next_step_at - time.monotonic())

    def steps_due(self, speed: int) -> int:
        """At ``speed`` steps per second: how many steps are due now (each one books the next's time). A
        session that fell more than a second behind (a pause, a busy machine) starts counting afresh."""
        now = time.monotonic()
        if now - self.next_step_at > 1.0:
            self.next_step_at = now
        if now < self.next_step_at:
            return 0
        due = int((now - self.next_step_at) * speed) + 1
        self.next_step_at += due / speed
        return due

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
        model = read_uploaded_model(content)
        self.pause()
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
