"""Checkpointing that monitors whatever the validation evaluator declares as its primary metric."""

from __future__ import annotations

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.utilities import rank_zero_info

from lightning_modules.evaluators import evaluator_for


class PrimaryMetricCheckpoint(ModelCheckpoint):
    """A ``ModelCheckpoint`` that monitors the primary metric of the DataModule's validation evaluator.

    ``monitor: null`` (the default, and what ``--print_config`` shows, with ModelCheckpoint's ``mode: min``)
    means: resolved from the data (:meth:`resolve_monitor`). The metric is then ``val/<primary_metric>`` and the
    mode follows the evaluator's ``higher_is_better``, so STS data monitors ``val/sts_spearman`` (max), triplet
    data ``val/triplet_accuracy`` (max), and so on. ``losslab fit`` resolves it once the DataModule is built,
    so the run's ``config.yaml`` names the metric and mode, and prints it (``checkpoints: best by ...``); a
    plain ``Trainer.fit`` resolves it at ``setup``. Without validation data the last checkpoint is kept. A
    ``monitor`` given explicitly is used as is (set ``mode`` with it). Takes ``ModelCheckpoint``'s arguments.
    """

    def resolve_monitor(self, datamodule: object) -> None:
        """Monitor the primary metric of ``datamodule``'s validation data, unless ``monitor`` is set.

        Args:
            datamodule: The DataModule (its ``val_format`` names the validation evaluator).
        """
        val_format = getattr(datamodule, "val_format", None)
        if self.monitor is None and val_format is not None:
            evaluator = evaluator_for(val_format)
            self.monitor = f"val/{evaluator.primary_metric}"
            self.mode = "max" if evaluator.higher_is_better else "min"
            self.kth_value = torch.tensor(-torch.inf if evaluator.higher_is_better else torch.inf)

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        """Resolve the monitored metric (and say which it is), then set up as ``ModelCheckpoint`` does."""
        self.resolve_monitor(trainer.datamodule)
        if stage == "fit":
            kept = f"best by {self.monitor} ({self.mode})" if self.monitor is not None else "last (no validation)"
            rank_zero_info(f"checkpoints: {kept}")
        super().setup(trainer, pl_module, stage)
