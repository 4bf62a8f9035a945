"""The contract between a LightningModule and its DataModule: formats, and the loss's batch needs."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from core.batch_formats import BatchFormat, BatchSampling


class LossRequirements(Protocol):
    """What data needs to know about a loss (``EmbeddingLoss`` satisfies it)."""

    sampling: BatchSampling

    def check_format(self, batch_format: BatchFormat) -> None:
        """Raise ``ValueError`` if the loss cannot consume ``batch_format``."""


@runtime_checkable
class EmbeddingData(Protocol):
    """What the LightningModule needs from its DataModule (``EmbeddingDataModule`` satisfies it)."""

    @property
    def val_format(self) -> BatchFormat | None:
        """Format of validation batches; ``None`` without validation data."""
        ...

    def bind_loss(self, loss: LossRequirements) -> None:
        """Check the loss can train on this data and choose the sampler it needs."""
        ...
