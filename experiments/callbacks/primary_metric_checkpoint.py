"""Checkpointing that monitors whatever the validation evaluator declares as its primary metric."""

from __future__ import annotations

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint

from lightning_modules.evaluators import evaluator_for


class PrimaryMetricCheckpoint(ModelCheckpoint):
    """A ``ModelCheckpoint`` that monitors the primary metric of the DataModule's validation evaluator.

    With ``monitor`` left unset, the metric is ``val/<primary_metric>`` and the mode follows the evaluator's
    ``higher_is_better``, so STS data monitors ``val/sts_spearman`` (max), triplet data
    ``val/triplet_accuracy`` (max), and so on. Without validation data the last checkpoint is kept.
    Takes the same arguments as ``ModelCheckpoint``.
    """

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        """Resolve the monitored metric, then set up as ``ModelCheckpoint`` does."""
        val_format = getattr(trainer.datamodule, "val_format", None)
        if self.monitor is None and val_format is not None:
            evaluator = evaluator_for(val_format)
            self.monitor = f"val/{evaluator.primary_metric}"
            self.mode = "max" if evaluator.higher_is_better else "min"
            self.kth_value = torch.tensor(-torch.inf if evaluator.higher_is_better else torch.inf)
        super().setup(trainer, pl_module, stage)
