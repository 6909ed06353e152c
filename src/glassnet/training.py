"""Training by gradient descent (learning floor): the one epoch loop, ``train`` -> epoch -> batch -> step.

The three forms the seeds name are one loop with different batch sizes:
batch gradient descent (``batch_size=None``: the whole set per step), mini-batch (``batch_size=32``),
and stochastic gradient descent (``batch_size=1``).

Every front door drives this loop through public calls: ``Trainer.fit`` for a whole run, or
``begin`` / ``train(max_steps=...)`` / ``end`` to run it in chunks (the playground, which must answer within a
step), and ``apply_gradients`` for one real optimizer step after a traced forward and backward pass. The
trainer knows nothing of files: checkpoints are a callback handed to it (see :mod:`glassnet.checkpoint`).
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from . import compiled
from .backend import numpy_like, sum_of_squares, take_rows, total
from .callbacks import Callback, History
from .constraints import check
from .errors import ConfigError, TrainingDivergedError, TrainingInterrupted, TrainingWarning, warn
from .optimizers import Optimizer, get_optimizer
from .params import Workspace
from .schedules import get_schedule
from .threads import one_thread_for_small_products
from .validation import as_sample_weight


# True: a fresh order of the rows every epoch; "blocks": of blocks of batch_size consecutive rows; False: none
SHUFFLES = (True, False, "blocks")
# the compiled engine returns to Python (callbacks, interruptions) after about this many rows
COMPILED_CHUNK_ROWS = 8192


@dataclass
class EpochProgress:
    """Where an epoch stands, so a run continues mid-epoch exactly where it stopped (the next chunk of a
    playground run, or a run resumed from a checkpoint)."""

    rng_state: dict          # the network's generator state when the epoch began (before its shuffle)
    next_batch: int = 1      # the next batch to run (1-based)
    total_loss: float = 0.0  # running sums for the epoch's logs
    total_weight: float = 0.0
    n_correct: int = 0
    order: object = None     # this epoch's shuffled row order (redrawn from rng_state when missing)

    def as_dict(self) -> dict:
        """The JSON part (the order is redrawn from the generator state)."""
        return {"rng_state": self.rng_state, "next_batch": self.next_batch, "total_loss": self.total_loss,
                "total_weight": self.total_weight, "n_correct": self.n_correct}


@dataclass
class TrainingData:
    """The data of a run, checked once by :meth:`Trainer.begin`."""

    x: object
    y: object
    sample_weight: object = None
    validation: tuple | None = None
    labels: object = None     # each row's class, decided once (None for regression)


class Trainer:
    """Runs gradient descent on a network; ``fit`` = ``begin`` -> ``train`` (epoch -> batch -> ``step``) -> ``end``.

    Safety settings:

    - ``clip_norm``: rescale the gradients so their global L2 norm is at most this (None: off);
    - ``clip_value``: clamp every gradient entry to [−clip_value, clip_value] (None: off);
    - ``explode_threshold``: stop with an error naming the layer when a layer's gradient norm exceeds
      this (after clipping; None: off). Non-finite losses and gradients always stop training.

    ``shuffle``: True reorders the rows every epoch; ``"blocks"`` reorders blocks of ``batch_size``
    consecutive rows (each batch one block: sequential reads of data on disk); False keeps the order.

    ``learning_rate`` (the schedule's base rate), ``batch_size``, ``shuffle``, ``schedule`` and ``optimizer``
    may be changed between calls of :meth:`train`; a new optimizer starts with fresh state.

    A run whose last epoch's loss is more than ``LOSS_ROSE_FACTOR`` times the loss it started from (the
    network at :meth:`begin`, on a seeded sample of up to 256 training rows) ends (:meth:`end`) with a
    :class:`~glassnet.errors.TrainingWarning`, also kept in ``history.warnings``: with a learning rate far
    too large the weights can saturate every unit and train to chance accuracy without ever overflowing.
    """

    def __init__(self, network, optimizer="sgd", learning_rate: float = 0.1, batch_size: int | None = 32,
                 schedule="constant", shuffle: bool = True, callbacks: Sequence[Callback] = (),
                 clip_norm: float | None = None, clip_value: float | None = None,
                 explode_threshold: float | None = 1e10, engine: str = "numpy"):
        self.network = network
        self.optimizer: Optimizer = get_optimizer(optimizer)
        self.learning_rate = check("learning_rate", learning_rate)
        self.batch_size = check("batch_size", batch_size)
        self.schedule = get_schedule(schedule)
        if shuffle not in SHUFFLES:
            raise ConfigError(f"shuffle must be True, False or 'blocks'; got {shuffle!r}")
        self.shuffle = shuffle if shuffle == "blocks" else bool(shuffle)
        self.callbacks = list(callbacks)
        self.clip_norm = check("clip_norm", clip_norm)
        self.clip_value = check("clip_value", clip_value)
        self.explode_threshold = check("explode_threshold", explode_threshold)
        self.history = History()
        self.stop_training, self.epoch = False, 0
        self.progress: EpochProgress | None = None
        self.interrupt_requested = False
        self.workspace = Workspace()  # the step's work arrays, kept between steps
        self.data: TrainingData | None = None
        self.start_loss = math.nan  # the loss at begin(), on a sample (see sample_loss)
        self.last_epoch: int | None = None  # the epoch the current fit() ends at (a progress bar's total)
        self.use_engine(engine)
        self._compiled, self._arange, self._planned_steps = None, None, None

    def use_engine(self, engine: str) -> None:
        """Train from now on with ``engine``: "numpy" (the reference), "compiled" or "auto" (see
        :mod:`glassnet.compiled`); the numbers are the same to rounding, only the speed differs."""
        if engine not in compiled.ENGINES:
            raise ConfigError(f"engine must be one of {', '.join(compiled.ENGINES)}; got {engine!r}")
        self.engine = engine

    @property
    def compiled_in_use(self) -> bool:
        """Whether the last batches ran on the compiled engine (``engine`` "compiled", or "auto" where it chose it)."""
        return self._compiled is not None and self._compiled[1] is not None

    def stop(self, reason: str) -> None:
        """Stop after the current epoch, recording ``reason`` in the history."""
        self.stop_training = True
        self.history.stop_reason = reason

    def request_interrupt(self) -> None:
        """Ask the run to stop after the current batch (a signal handler calls this)."""
        self.interrupt_requested = True

    def _call(self, hook: str, *args) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    @property
    def epochs_completed(self) -> int:
        """Whole epochs run so far (an epoch stopped part-way does not count)."""
        return self.epoch - (1 if self.progress is not None else 0)

    @property
    def current_learning_rate(self) -> float:
        """The rate the next step uses: the schedule applied to ``learning_rate`` at the current epoch."""
        return self.schedule(self.learning_rate, max(self.epoch - 1, 0))

    # ---- a whole run -------------------------------------------------------------------------------
    def fit(self, x, y, epochs: int = 10, validation_data=None, sample_weight=None) -> History:
        """Run ``epochs`` more epochs (a partly run epoch left by an interruption counts as one)."""
        epochs = check("epochs", epochs)
        self.last_epoch = self.epochs_completed + epochs
        self.begin(x, y, validation_data, sample_weight)
        try:
            # small products: one BLAS thread for the whole run (see glassnet.threads for the measurement)
            with one_thread_for_small_products(self.network.sizes, self._batch_rows()):
                self.train(max_epochs=epochs)
            if not self.stop_training:
                self.history.stop_reason = f"finished {self.epoch} epochs"
        finally:
            self.end()
        return self.history

    # ---- the same run in chunks --------------------------------------------------------------------
    def begin(self, x, y, validation_data=None, sample_weight=None) -> None:
        """Check the data once and start (or go on with) the run: calls the callbacks' on_train_begin."""
        network = self.network
        x, y = network.check_xy(x, y)
        if sample_weight is not None:
            sample_weight = as_sample_weight(sample_weight, x.shape[0], network.dtype, network.xp)
        validation = None if validation_data is None else self._check_validation(validation_data)
        labels = network.decide(y) if network.task == "classification" else None
        self.data = TrainingData(x, y, sample_weight, validation, labels)
        self.stop_training = self.interrupt_requested = False
        self.start_loss = self.sample_loss(x, y)
        self._call("on_train_begin")

    def train(self, max_epochs: int | None = None, max_steps: int | None = None) -> list[dict]:
        """Run until ``max_epochs`` epochs have ended (a partly run one counts), ``max_steps`` batches have
        run, or a callback stops the run; returns the logs of the epochs that ended. A partly run epoch
        goes on at the next call."""
        max_epochs, max_steps = check("max_epochs", max_epochs), check("max_steps", max_steps)
        if max_epochs is None and max_steps is None:
            raise ConfigError("train needs max_epochs or max_steps")
        if self.data is None:
            raise ConfigError("call begin(x, y) before train()")
        ended, steps = [], 0
        planned = [n for n in (max_steps, None if max_epochs is None else max_epochs * self._n_batches()) if n]
        self._planned_steps = min(planned)  # what "auto" weighs against loading the compiled kernels
        try:
            while not self.stop_training and (max_epochs is None or len(ended) < max_epochs):
                if self.progress is None and max_steps is None:
                    several = self._run_compiled_epochs(max_epochs - len(ended))
                    ended += several
                    if several or self.progress is not None:
                        continue
                if self.progress is None:
                    self._start_epoch()
                steps += self._run_batches(None if max_steps is None else max_steps - steps)
                if self.progress.next_batch > self._n_batches():
                    ended.append(self._end_epoch())
                if max_steps is not None and steps >= max_steps:
                    break
        except TrainingInterrupted:
            self._call("on_interrupt")
            raise
        return ended

    def end(self) -> None:
        """Finish the run: calls the callbacks' on_train_end (early stopping restores its best weights), and
        warns when the loss ended far above where :meth:`begin` found it."""
        self._call("on_train_end")
        self._warn_if_loss_rose()

    def sample_loss(self, x, y, n_rows: int = 256) -> float:
        """The network's loss on a seeded sample of up to ``n_rows`` rows (the network's own generator is
        left untouched, so a seed still gives the same run)."""
        rows = np.arange(x.shape[0])
        if x.shape[0] > n_rows:
            rows = np.sort(np.random.default_rng(0).choice(x.shape[0], n_rows, replace=False))
        return self.network.evaluate(take_rows(x, rows), take_rows(y, rows))["loss"]

    def _warn_if_loss_rose(self) -> None:
        start_loss = self.start_loss
        if not self.history.loss or not math.isfinite(start_loss):
            return
        end_loss = self.history.loss[-1]
        if end_loss > LOSS_ROSE_FACTOR * start_loss and end_loss - start_loss > 1e-12:
            message = (f"the training loss ended at {end_loss:.4g} (the last epoch's mean over its batches, each "
                       f"before its step), {end_loss / max(start_loss, 1e-300):.3g} times "
                       f"the {start_loss:.4g} it started from: the run diverged (the weights did not overflow, "
                       f"but they got worse). Try a smaller learning rate (now {self.learning_rate:g})")
            self.history.warnings.append(message)
            warn(message, TrainingWarning)

    # ---- epoch -> batch -> step --------------------------------------------------------------------
    def _check_validation(self, validation_data):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ConfigError("validation_data must be a pair (X_val, y_val)")
        return self.network.check_xy(*validation_data)

    def _n_batches(self) -> int:
        return -(-self.data.x.shape[0] // self._batch_rows())

    def _batch_rows(self) -> int:
        n_samples = self.data.x.shape[0]
        return n_samples if self.batch_size is None else min(self.batch_size, n_samples)

    def _start_epoch(self) -> None:
        self.epoch += 1
        rng = self.network.rng
        self.progress = EpochProgress(rng_state=rng.bit_generator.state)
        if self.shuffle:  # the generator is at the state just recorded: draw the order now
            self.progress.order = self._draw_order(rng)
        self._call("on_epoch_begin", self.epoch)

    def _draw_order(self, rng):
        n_samples = self.data.x.shape[0]
        return block_order(rng, n_samples, self._batch_rows()) if self.shuffle == "blocks" \
            else rng.permutation(n_samples)

    def _order(self):
        """This epoch's row order (None without shuffling), drawn from the generator state the epoch began
        with, so a resumed epoch (whose order was not kept) redraws exactly the same order."""
        progress = self.progress
        if self.shuffle and progress.order is None:
            rng = self.network.rng
            rng.bit_generator.state = progress.rng_state
            progress.order = self._draw_order(rng)
        return progress.order if self.shuffle else None

    def _run_batches(self, max_steps: int | None) -> int:
        """Run the epoch's next batches (at most ``max_steps``); returns how many ran."""
        data, progress, order = self.data, self.progress, self._order()
        batch_rows, n_batches, ran = self._batch_rows(), self._n_batches(), 0
        engine = self._compiled_engine()
        labels, blocks = data.labels, self.shuffle == "blocks"
        gather = operator.getitem if isinstance(data.x, np.ndarray) else take_rows  # array[rows] on numpy
        while progress.next_batch <= n_batches and (max_steps is None or ran < max_steps):
            if engine is not None:
                ran += self._run_compiled(engine, order, None if max_steps is None else max_steps - ran)
                if progress.next_batch > n_batches or (max_steps is not None and ran >= max_steps):
                    break  # else the next batch needs the numpy path's checks (see glassnet.compiled)
            batch = progress.next_batch
            start = (batch - 1) * batch_rows
            # gather one batch at a time (never a shuffled copy of the whole set); plain fancy indexing
            # measured 2.5x faster than np.take(..., out=) into a kept array
            rows = slice(start, start + batch_rows) if order is None else order[start:start + batch_rows]
            if blocks:  # the batch is one block of consecutive rows: a view, read in order
                rows = slice(int(rows[0]), int(rows[0]) + len(rows))
            xb, yb = gather(data.x, rows), gather(data.y, rows)
            wb = None if data.sample_weight is None else gather(data.sample_weight, rows)
            loss, correct = self.step(xb, yb, wb, None if labels is None else gather(labels, rows))
            self._record_batch(loss, xb.shape[0] if wb is None else float(total(wb)), correct)
            ran += 1
            self._check_interrupt()
        return ran

    def _record_batch(self, loss: float, weight: float, correct: int) -> None:
        """Add the batch just run to the epoch's sums and tell the callbacks."""
        progress = self.progress
        progress.total_loss += loss * weight
        progress.total_weight += weight
        progress.n_correct += correct
        progress.next_batch += 1
        if self.callbacks:
            self._call("on_batch_end", self.epoch, progress.next_batch - 1, loss)

    def _check_interrupt(self) -> None:
        if self.interrupt_requested:
            batch = self.progress.next_batch - 1
            raise TrainingInterrupted(f"training interrupted after epoch {self.epoch}, batch {batch}",
                                      epoch=self.epoch, batch=batch)

    # ---- the compiled engine (glassnet.compiled; the numpy path above is the reference) -----------------
    def _compiled_engine(self):
        """The compiled engine for this run, or None for the numpy path (see ``engine``)."""
        if self.engine == "numpy":
            return None
        data = self.data
        key = (self.engine, id(self.network), id(self.optimizer), data.sample_weight is None, self.clip_norm,
               self.clip_value, self._batch_rows(), self._planned_steps if self.engine == "auto" else None)
        if self._compiled is None or self._compiled[0] != key:
            engine = compiled.choose(self.engine, self.network, self.optimizer, batch_rows=self._batch_rows(),
                                     planned_steps=self._planned_steps, sample_weight=data.sample_weight,
                                     clip_norm=self.clip_norm, clip_value=self.clip_value)
            self._compiled = (key, engine)
        return self._compiled[1]

    def _run_compiled(self, engine, order, max_steps: int | None) -> int:
        """Run the epoch's next batches compiled, a chunk of about COMPILED_CHUNK_ROWS rows per call; the
        callbacks hear of each batch, in order, after its chunk, and an interruption is honoured between
        chunks. Stops early before a batch the numpy path must check. Returns how many batches ran."""
        data, progress = self.data, self.progress
        n_samples, batch_rows, n_batches = data.x.shape[0], self._batch_rows(), self._n_batches()
        if order is None:
            if self._arange is None or self._arange.shape[0] != n_samples:
                self._arange = np.arange(n_samples)
            order = self._arange
        left = n_batches - progress.next_batch + 1 if max_steps is None else \
            min(max_steps, n_batches - progress.next_batch + 1)
        chunk, ran = max(1, COMPILED_CHUNK_ROWS // batch_rows), 0
        while ran < left:
            losses, corrects, done, needs_check = engine.run(
                data.x, data.y, data.labels, order, batch_rows, progress.next_batch - 1, min(chunk, left - ran),
                self.current_learning_rate, self.explode_threshold)
            for loss, correct in zip(losses.tolist(), corrects.tolist()):
                start = (progress.next_batch - 1) * batch_rows
                self._record_batch(loss, min(batch_rows, n_samples - start), correct)
            ran += done
            self._check_interrupt()
            if needs_check:
                break
        return ran

    def _run_compiled_epochs(self, epochs_left: int) -> list[dict]:
        """Several whole epochs in one compiled call, for data sets so small that an epoch costs less than a
        return to Python (XOR: one batch per epoch). Only without callbacks and validation data, since nothing
        may need to see the network between epochs; the epochs draw their orders from the network's generator
        exactly as one by one. Returns the logs of the epochs that ended ([] where this does not apply); a
        batch that needs the numpy path's checks leaves its epoch in progress, to go on one batch at a time."""
        if self.engine == "numpy":
            return []
        data = self.data
        n_samples = data.x.shape[0]
        n_epochs = min(epochs_left, COMPILED_CHUNK_ROWS // n_samples)
        if n_epochs < 2 or self.callbacks or data.validation is not None or data.sample_weight is not None:
            return []
        engine = self._compiled_engine()
        if engine is None:
            return []
        rng, batch_rows = self.network.rng, self._batch_rows()
        states, orders = [], []
        for _ in range(n_epochs):
            states.append(rng.bit_generator.state)
            orders.append(self._draw_order(rng) if self.shuffle else np.arange(n_samples))
        rates = [self.schedule(self.learning_rate, self.epoch + index) for index in range(n_epochs)]
        losses, corrects, epochs, batches, _ = engine.run_epochs(data.x, data.y, data.labels, np.stack(orders),
                                                                 batch_rows, np.array(rates), self.explode_threshold)
        rows = np.minimum(batch_rows, n_samples - batch_rows * np.arange(losses.shape[1])).astype(float)
        ended = []
        for index in range(epochs):
            self.epoch += 1
            logs = {"epoch": self.epoch, "loss": float(losses[index] @ rows) / n_samples, "learning_rate": rates[index]}
            if data.labels is not None:
                logs["accuracy"] = int(corrects[index].sum()) / n_samples
            self.history.record(logs)
            ended.append(logs)
        if epochs < n_epochs:  # stopped before a batch the numpy path must check: that epoch goes on from there
            self.epoch += 1
            self.progress = EpochProgress(states[epochs], batches + 1, float(losses[epochs, :batches] @ rows[:batches]),
                                          float(rows[:batches].sum()), int(corrects[epochs, :batches].sum()),
                                          orders[epochs] if self.shuffle else None)
            if epochs + 1 < n_epochs:
                rng.bit_generator.state = states[epochs + 1]  # as if only this epoch's order had been drawn
        if self.interrupt_requested:
            batch = losses.shape[1] if self.progress is None else batches  # the last batch that ran
            raise TrainingInterrupted(f"training interrupted after epoch {self.epoch}, batch {batch}",
                                      epoch=self.epoch, batch=batch)
        return ended

    def _end_epoch(self) -> dict:
        progress, network = self.progress, self.network
        self.progress = None
        logs = {"epoch": self.epoch, "loss": progress.total_loss / progress.total_weight,
                "learning_rate": self.current_learning_rate}
        if self.data.labels is not None:  # classification (begin decided every row's class)
            logs["accuracy"] = progress.n_correct / self.data.x.shape[0]
        if self.data.validation is not None:
            logs.update({f"val_{k}": v for k, v in network.evaluate(*self.data.validation).items()})
        self.history.record(logs)
        self._call("on_epoch_end", self.epoch, logs)
        return logs

    def step(self, xb, yb, sample_weight=None, labels=None) -> tuple[float, int]:
        """One training step on rows of the data given to :meth:`begin`: forward, cost and backward through
        :meth:`Network.loss_and_grad`, then :meth:`apply_gradients`. Returns (loss, n_correct).

        ``labels``: the class of each row of ``yb`` when known (saves deciding it from ``yb`` again).
        """
        network = self.network
        loss = network.loss_and_grad(xb, yb, sample_weight, self.workspace, checked=True)
        if not math.isfinite(loss):
            self._diverged(f"the loss is {loss}")
        correct = 0
        classification = network.task == "classification" if self.data is None else self.data.labels is not None
        if classification:
            correct = network.count_decided(network.last_outputs, network.decide(yb) if labels is None else labels)
        self.apply_gradients()
        return loss, correct

    def apply_gradients(self) -> None:
        """One optimizer update from the gradients in the network's parameter store (left there by the last
        :meth:`Network.loss_and_grad`), at :attr:`current_learning_rate`; refused (weights untouched) when a
        gradient is not finite or explodes.

        It works on the store's two flat arrays (all weights, all biases), so a step costs the same few array
        operations however many layers there are.
        """
        groups = self.network.params.groups
        grads = [group.grads for group in groups]
        if self.clip_value is not None:
            for grad in grads:
                self.network.xp.clip(grad, -self.clip_value, self.clip_value, out=grad)
        if self.clip_norm is not None or not self._bounded(grads):
            total = self._global_norm(grads)
            if self.clip_norm is not None and total > self.clip_norm:
                for grad in grads:
                    grad *= self.clip_norm / total  # g := g · clip_norm / ‖g‖
                total = self.clip_norm
            if self.explode_threshold is not None and total > self.explode_threshold:
                self._check_explosion()  # no single layer can exceed the threshold unless the total does
        self.optimizer.step(groups, self.current_learning_rate)

    def _bounded(self, grads) -> bool:
        """True when a cheap upper bound of ‖g‖ proves every gradient finite and within explode_threshold,
        so the exact norm (a pass over every weight) can be skipped; False leaves the decision to it.

        For a layer, grad_W = x.T @ delta and ‖x.T @ delta‖ ≤ ‖x‖ ‖delta‖ (Frobenius norms), which needs
        only the batch's x and delta: at batch size 10 of 784-256-128-10 that reads 16 thousand numbers
        instead of 235 thousand. The bound is used where it reads less, the exact norm elsewhere.
        """
        network = self.network
        if network.l2 or network.l1:  # then grad_W = x.T @ delta + l2 · W + l1 · sign(W)
            return False
        xp, limit = network.params.xp, _NO_THRESHOLD if self.explode_threshold is None else self.explode_threshold
        if len(grads) == 2 and network.params.n_weights <= _EXACT_BELOW:  # few numbers: the exact norm is cheaper
            return _squared_norm(xp, grads[0]) + _squared_norm(xp, grads[1]) <= limit * limit
        total = _squared_norm(xp, grads[1])  # all biases: few numbers, exact
        for layer in network.layers:
            if layer.x is None or layer.delta is None:
                return False  # gradients not from this layer's cached values: measure them exactly
            if layer.x.size + layer.delta.size < layer.n_weights:
                total += _squared_norm(xp, layer.x) * _squared_norm(xp, layer.delta)
            else:
                total += _squared_norm(xp, layer.grad_W)
        return total <= limit * limit  # False for NaN and inf as well

    def _global_norm(self, grads) -> float:
        """‖g‖ over every gradient (the L2 norm), refusing NaN or infinite entries by name."""
        total = 0.0
        for grad in grads:
            total += _squared_norm(self.network.xp, grad)
        if not math.isfinite(total):
            for index, grad in enumerate(self.network.parameter_gradients()):
                if not bool(self.network.xp.isfinite(grad).all()):
                    self._diverged(f"the gradient of {_parameter_name(index)} is not finite")
            total = sum(_squared_norm(self.network.xp, grad, wide=True) for grad in grads)  # float32 overflow
        return math.sqrt(total)

    def _check_explosion(self) -> None:
        """Stop, naming the parameter, when one layer's weight or bias gradient norm exceeds the threshold."""
        for index, grad in enumerate(self.network.parameter_gradients()):
            norm = math.sqrt(_squared_norm(self.network.xp, grad, wide=True))
            if norm > self.explode_threshold:
                self._diverged(f"the gradient of {_parameter_name(index)} exploded (norm {norm:.3g} > "
                               f"{self.explode_threshold:g})",
                               hint="or cap the gradients' norm (clip_norm=... in Python, --clip-norm on the "
                                    "command line)")

    def _diverged(self, what: str, hint: str = ""):
        batch = None if self.progress is None else self.progress.next_batch
        where = f"epoch {self.epoch}, batch {batch}" if batch is not None else f"epoch {self.epoch}"
        raise TrainingDivergedError(
            f"training diverged at {where}: {what}. The network keeps its last finite weights (from before "
            f"this step). Try a smaller learning rate (now {self.learning_rate:g}){' ' + hint if hint else ''}.",
            epoch=self.epoch, batch=batch,
        )


#: a run whose final loss is more than this many times its starting loss ends with a TrainingWarning
LOSS_ROSE_FACTOR = 10.0


def block_order(rng, n_samples: int, block_rows: int):
    """A row order that shuffles whole blocks of ``block_rows`` consecutive rows (``shuffle="blocks"``): each
    batch is one block, read from start to end, so data on disk (a ``numpy.memmap``) is read sequentially.
    The full blocks come in random order; a short last block stays last, so every batch is a whole block."""
    n_full = n_samples // block_rows
    starts = rng.permutation(n_full) * block_rows
    order = (starts[:, None] + np.arange(block_rows)).ravel()
    return np.concatenate([order, np.arange(n_full * block_rows, n_samples)])


# without an explode_threshold the bound still has to prove the gradients finite: anything below this is
_NO_THRESHOLD = 1e30
# networks with at most this many weights measure ‖g‖ exactly (two dot products over the flat store)
_EXACT_BELOW = 16_384


def _squared_norm(xp, array, wide: bool = False) -> float:
    """Σ array² as a Python float (NaN or inf when an entry is); ``wide`` sums in float64 (no overflow)."""
    if wide:
        array = array.astype(np.float64) if type(array) is np.ndarray else xp.astype(array, xp.float64)
    return float(xp.vdot(array, array)) if xp is np or numpy_like(xp) else sum_of_squares(array)


def _parameter_name(index: int) -> str:
    return f"layer {index // 2 + 1}'s {'weights' if index % 2 == 0 else 'biases'}"
