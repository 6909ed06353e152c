"""Progress of a training run on stderr (faces floor): a tqdm bar on a terminal, plain lines anywhere else.

A log file or a pipe gets no ``\\r`` redraws: it gets one line per tenth of the run (and the last epoch).
"""
from __future__ import annotations

import sys

from .callbacks import Callback

#: a stream that is not a terminal gets about this many progress lines per run
LINES_PER_RUN = 10


class ProgressBar(Callback):
    """One bar over the epochs, showing loss and accuracy (and their validation values), on stderr."""

    def __init__(self, total_epochs: int, stream=None):
        self.total, self.stream = total_epochs, stream or sys.stderr
        self.bar = None
        self.every = max(1, -(-total_epochs // LINES_PER_RUN))

    def on_train_begin(self, trainer):
        """Open a tqdm bar when the stream is a terminal (without tqdm, or on a pipe or file: plain lines). The
        total is the epoch the trainer's run ends at when it says (a resumed run's own, not a default)."""
        if trainer.last_epoch is not None:
            self.total = trainer.last_epoch
            self.every = max(1, -(-self.total // LINES_PER_RUN))
        if not _is_terminal(self.stream):
            return
        try:
            from tqdm import tqdm
        except ImportError:  # pragma: no cover - the cli extra brings tqdm
            return
        self.bar = tqdm(total=self.total, initial=trainer.epochs_completed, unit="epoch", file=self.stream,
                        dynamic_ncols=True, leave=True, desc="training")

    def on_epoch_end(self, trainer, epoch, logs):
        """Advance the bar by one epoch with its loss and accuracy, or print a plain line every tenth of the run."""
        shown = {k: f"{v:.4g}" for k, v in logs.items() if k in ("loss", "accuracy", "val_loss", "val_accuracy")}
        if self.bar is None:
            if epoch % self.every == 0 or epoch >= self.total:
                print(f"training: epoch {epoch}/{self.total} ({epoch / self.total:.0%}) "
                      + " ".join(f"{k}={v}" for k, v in shown.items()), file=self.stream, flush=True)
            return
        self.bar.set_postfix(shown, refresh=False)
        self.bar.update(1)

    def on_train_end(self, trainer):
        """Close the bar."""
        if self.bar is not None:
            self.bar.close()


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
