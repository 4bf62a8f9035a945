"""EmbeddingLitModule: an encoder trained with any losslab loss; steps and logging only."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.cli import OptimizerCallable
from torch import Tensor
from torch.optim.lr_scheduler import LambdaLR

from core.batch_formats import TokenizedBatch
from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.evaluators import Evaluator, evaluator_for
from lightning_modules.losses.base import EmbeddingLoss


def _adamw(params: Any) -> torch.optim.Optimizer:
    return torch.optim.AdamW(params, lr=2e-5)


class EmbeddingLitModule(pl.LightningModule):
    """Trains a sentence encoder with a pluggable loss and validates with the data's evaluator.

    Args:
        encoder: The sentence encoder (transformer + pooling + optional normalisation).
        loss: Any :class:`~lightning_modules.losses.base.EmbeddingLoss`; its parameters (e.g. a
            classifier head) are trained with the encoder.
        optimizer: Optimizer factory (default AdamW, lr 2e-5).
        warmup_ratio: Fraction of training steps with linear learning-rate warm-up, followed by linear
            decay to 0 (the sentence-transformers/Hugging Face default schedule shape).
    """

    def __init__(
        self,
        encoder: HFEncoder,
        loss: EmbeddingLoss,
        optimizer: OptimizerCallable = _adamw,
        warmup_ratio: float = 0.1,
    ) -> None:
        super().__init__()
        if not 0.0 <= warmup_ratio < 1.0:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {warmup_ratio}")
        # Under the Lightning CLI this stores the YAML config of encoder/loss/optimizer (class_path + init_args),
        # so a checkpoint alone can rebuild the module; the CLI logs the full config itself.
        self.save_hyperparameters(logger=False)
        self.encoder = encoder
        self.loss = loss
        self.optimizer_factory = optimizer
        self.warmup_ratio = warmup_ratio
        self.evaluator: Evaluator | None = None
        self._val_embeddings: list[list[Tensor]] = []
        self._val_labels: list[Tensor] = []
        # Losses that need the encoder beyond its embeddings (a frozen copy, the tokenizer) get it here.
        loss.bind_encoder(encoder)

    def setup(self, stage: str) -> None:
        """Choose the validation evaluator from the DataModule's declared validation format."""
        datamodule = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        val_format = getattr(datamodule, "val_format", None)
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
        if self._logs_this_step():
            for name, value in out.stats.items():
                self.log(f"train/loss/{name}", value.detach().float(), batch_size=batch_size)
        return out.loss

    def _logs_this_step(self) -> bool:
        """Whether Lightning writes step metrics now (every ``log_every_n_steps``).

        Step-level values logged on other steps are discarded, so losses whose statistics are computed on
        access cost nothing there. Lightning exposes the decision only on its logger connector; without it
        (no trainer, another Lightning version) every step counts as a logging step.
        """
        connector = getattr(self._trainer, "_logger_connector", None)
        return bool(getattr(connector, "should_update_logs", True))

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
        """Optimizer over encoder + loss parameters with linear warm-up and linear decay, stepped per batch."""
        optimizer = self.optimizer_factory(self.parameters())
        total = max(1, int(self.trainer.estimated_stepping_batches))
        warmup = int(total * self.warmup_ratio)

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / (warmup + 1)
            return max(0.0, (total - step) / max(1, total - warmup))

        scheduler = LambdaLR(optimizer, factor)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
