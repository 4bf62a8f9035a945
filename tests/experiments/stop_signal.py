"""A callback that stops its own fit with a signal at a chosen point, once (for the resume tests)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any, Literal

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback


class StopSignal(Callback):
    """Sends this process ``signum`` during the step that reaches ``at_step``, or in the validation after it.

    Args:
        at_step: The optimizer step.
        where: ``"train_step"``: while that step trains; ``"validation"``: after the first batch of the
            validation that follows it.
        marker: A file created when the signal is sent; while it exists the callback does nothing, so the
            resumed run (same config) is not stopped again.
        signum: The signal (SIGTERM by default).
    """

    def __init__(
        self, at_step: int, where: Literal["train_step", "validation"], marker: str, signum: int = int(signal.SIGTERM)
    ) -> None:
        self.at_step, self.where, self.marker, self.signum = at_step, where, Path(marker), signum

    def _send(self) -> None:
        if not self.marker.exists():
            self.marker.touch()
            os.kill(os.getpid(), self.signum)

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        """Signal while the step that reaches ``at_step`` runs."""
        if self.where == "train_step" and trainer.global_step == self.at_step - 1:
            self._send()

    def on_validation_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int, *args: Any
    ) -> None:
        """Signal in the middle of the validation after ``at_step``."""
        if self.where == "validation" and trainer.global_step == self.at_step and batch_idx == 0:
            if not trainer.sanity_checking:
                self._send()
