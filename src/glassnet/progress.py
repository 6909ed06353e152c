"""A progress bar per training run on stderr (tqdm when installed, plain lines otherwise)."""
from __future__ import annotations

import sys

from .training import Callback


class ProgressBar(Callback):
    """One bar over the epochs, showing loss and accuracy (and their validation values), on stderr."""

    def __init__(self, total_epochs: int, stream=None):
        self.total, self.stream = total_epochs, stream or sys.stderr
        self.bar = None

    def on_train_begin(self, trainer):
        """Open the bar (a no-op without tqdm)."""
        try:
            from tqdm import tqdm
        except ImportError:  # pragma: no cover - the cli extra brings tqdm
            return
        self.bar = tqdm(total=self.total, unit="epoch", file=self.stream, dynamic_ncols=True, leave=True,
                        desc="training")

    def on_epoch_end(self, trainer, epoch, logs):
        """Advance by one epoch and show its loss and accuracy."""
        shown = {k: f"{v:.4g}" for k, v in logs.items() if k in ("loss", "accuracy", "val_loss", "val_accuracy")}
        if self.bar is None:
            print(f"epoch {epoch}/{self.total} " + " ".join(f"{k}={v}" for k, v in shown.items()),
                  file=self.stream, flush=True)
            return
        self.bar.set_postfix(shown, refresh=False)
        self.bar.update(1)

    def on_train_end(self, trainer):
        """Close the bar."""
        if self.bar is not None:
            self.bar.close()
