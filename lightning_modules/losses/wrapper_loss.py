"""Base of the losses that wrap another loss (Matryoshka, AdaptiveLayer, gradient caching)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from torch import Tensor

from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.losses.base import EmbeddingLoss, LossOutput
from lightning_modules.strategies.embedding_passes import require_embedding_based

if TYPE_CHECKING:
    from lightning_modules.encoders.hf_encoder import HFEncoder


class WrapperLoss(EmbeddingLoss):
    """A loss around another loss: it takes that loss's batch formats, sampling and encoder binding.

    Args:
        loss: The wrapped loss; it must compute its loss from embeddings (not run its own forward passes).
    """

    def __init__(self, loss: EmbeddingLoss) -> None:
        super().__init__()
        require_embedding_based(loss, type(self).__name__)
        self.loss = loss

    @property
    def accepts(self) -> frozenset[BatchFormat]:  # type: ignore[override]
        """The wrapped loss's batch formats."""
        return self.loss.accepts

    @property
    def sampling(self) -> BatchSampling:  # type: ignore[override]
        """The wrapped loss's batch sampling."""
        return self.loss.sampling

    def bind_encoder(self, encoder: HFEncoder) -> None:
        """Pass the encoder on to a wrapped loss that needs it."""
        self.loss.bind_encoder(encoder)

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """The wrapped loss on already computed (final-layer) embeddings."""
        return self.loss(embeddings, labels)
