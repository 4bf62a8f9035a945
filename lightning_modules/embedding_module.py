"""EmbeddingLitModule: an encoder trained with any losslab loss; steps and logging only."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.cli import LRSchedulerCallable, OptimizerCallable
from pytorch_lightning.utilities import rank_zero_warn
from torch import Tensor

from core.batch_formats import TokenizedBatch
from core.data_contract import EmbeddingData
from core.trainer_progress import logs_this_step
from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.evaluators import Evaluator, evaluator_for
from lightning_modules.losses.base import EmbeddingLoss
from lightning_modules.warmup_schedule import WarmupSchedule


def _adamw(params: Any) -> torch.optim.Optimizer:
    return torch.optim.AdamW(params, lr=2e-5)


class EmbeddingLitModule(pl.LightningModule):
    """Trains a sentence encoder with a pluggable loss and validates with the data's evaluator.

    Args:
        encoder: The sentence encoder (transformer + pooling + optional normalisation).
        loss: Any :class:`~lightning_modules.losses.base.EmbeddingLoss`; its parameters (e.g. a
            classifier head) are trained with the encoder.
        optimizer: Optimizer factory (default AdamW, lr 2e-5).
        lr_scheduler: The learning-rate schedule, stepped per batch: a :class:`WarmupSchedule` (default:
            10% linear warm-up, then linear decay to 0 — the sentence-transformers/Hugging Face default;
            ``name: cosine`` for cosine decay) or any ``torch.optim.lr_scheduler`` class (``LRSchedulerCallable``).
    """

    def __init__(
        self,
        encoder: HFEncoder,
        loss: EmbeddingLoss,
        optimizer: OptimizerCallable = _adamw,
        lr_scheduler: WarmupSchedule | LRSchedulerCallable = WarmupSchedule(),
    ) -> None:
        super().__init__()
        # Under the Lightning CLI this stores the YAML config of encoder/loss/optimizer (class_path + init_args),
        # so a checkpoint alone can rebuild the module; the CLI logs the full config itself.
        self.save_hyperparameters(logger=False)
        self.encoder = encoder
        self.loss = loss
        self.optimizer_factory = optimizer
        self.lr_scheduler_factory = lr_scheduler
        self.evaluator: Evaluator | None = None
        self._val_embeddings: list[list[Tensor]] = []
        self._val_labels: list[Tensor] = []
        # Losses that need the encoder beyond its embeddings (a frozen copy, the tokenizer) get it here.
        loss.bind_encoder(encoder)

    def setup(self, stage: str) -> None:
        """Bind the loss to the data (format check, sampler choice) and pick the validation evaluator.

        Lightning calls this after the DataModule's ``setup`` and before any loader is built, so a plain
        ``Trainer.fit(module, datamodule)`` checks and samples exactly as ``losslab fit`` does.
        """
        datamodule = self.trainer.datamodule if self._trainer is not None else None
        if not isinstance(datamodule, EmbeddingData):
            if stage == "fit":
                rank_zero_warn(
                    "no losslab DataModule: the loss's batch format and sampling needs "
                    f"({type(self.loss).__name__}) cannot be checked, and there is no validation evaluator"
                )
            self.evaluator = None
            return
        if stage == "fit":
            datamodule.bind_loss(self.loss)
        val_format = datamodule.val_format
        self.evaluator = evaluator_for(val_format) if val_format is not None else None

    @property
    def primary_metric(self) -> tuple[str, bool] | None:
        """``("val/<name>", higher_is_better)`` of the current evaluator, or ``None`` without validation."""
        if self.evaluator is None:
            return None
        return f"val/{self.evaluator.primary_metric}", self.evaluator.higher_is_better

    def training_step(self, batch: TokenizedBatch, batch_idx: int) -> Tensor:
        """Compute the loss through the loss's ``training_loss`` hook and log it with its statistics."""
        out = self.loss.training_loss(self.encoder, batch)
        batch_size = len(batch)
        self.log("train/loss", out.loss.detach().float(), prog_bar=True, batch_size=batch_size)
        if logs_this_step(self._trainer):
            for name, value in out.stats.items():
                self.log(f"train/loss/{name}", value.detach().float(), batch_size=batch_size)
        return out.loss

    def on_validation_epoch_start(self) -> None:
        """Start collecting validation embeddings."""
        self._val_embeddings, self._val_labels = [], []

    def validation_step(self, batch: TokenizedBatch, batch_idx: int) -> None:
        """Embed every column of the validation batch; scoring happens once the whole set is embedded."""
        self._val_embeddings.append([self.encoder(f).float().cpu() for f in batch.features])
        if batch.labels is not None:
            self._val_labels.append(batch.labels.cpu())

    def on_validation_epoch_end(self) -> None:
        """Score the whole validation set with the evaluator and log ``val/<metric>``."""
        if self.evaluator is None or not self._val_embeddings:
            return
        columns = [torch.cat(col) for col in zip(*self._val_embeddings, strict=True)]
        labels = torch.cat(self._val_labels) if self._val_labels else None
        metrics = self.evaluator(columns, labels)
        primary = self.evaluator.primary_metric
        for name, value in metrics.items():
            self.log(f"val/{name}", float(value), prog_bar=name == primary, sync_dist=True)
        self._val_embeddings, self._val_labels = [], []

    def configure_optimizers(self) -> dict[str, Any]:
        """Optimizer over encoder + loss parameters, with the learning-rate schedule stepped per batch.

        The loss's own parameters come in the groups of its ``parameter_groups`` hook (e.g. PML class
        proxies at their own learning rate); every other parameter forms the first group.
        """
        loss_groups = self.loss.parameter_groups()
        in_loss_groups = {id(p) for group in loss_groups for p in group["params"]}
        others = [p for p in self.parameters() if id(p) not in in_loss_groups]
        optimizer = self.optimizer_factory([{"params": others}, *loss_groups])
        schedule = self.lr_scheduler_factory
        if isinstance(schedule, WarmupSchedule):
            scheduler = schedule.build(optimizer, max(1, int(self.trainer.estimated_stepping_batches)))
        else:
            scheduler = schedule(optimizer)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
