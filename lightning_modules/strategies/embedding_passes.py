"""Which module embeds which column: the contract between losses and strategies that re-run forward passes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from torch import Tensor, nn

from core.batch_formats import TokenizedBatch
from lightning_modules.losses.base import EmbeddingLoss

if TYPE_CHECKING:
    from lightning_modules.encoders.hf_encoder import HFEncoder

Features = dict[str, Tensor]


@dataclass
class EmbeddingPass:
    """One embedding column and the module that embeds it.

    Attributes:
        encode: The module that maps tokenizer features to ``(B, D)`` embeddings (the encoder, or a second
            encoder); gradient caching needs its parameters.
        features: The column's tokenizer output.
    """

    encode: nn.Module
    features: Features


@runtime_checkable
class DefinesEmbeddingPasses(Protocol):
    """A loss whose columns are not all embedded by the trained encoder (e.g. Contrastive Tension)."""

    def embedding_passes(self, encoder: HFEncoder, batch: TokenizedBatch) -> list[EmbeddingPass]:
        """The forward passes whose embeddings, in order, the loss's ``forward`` takes."""
        ...


def embedding_passes(loss: EmbeddingLoss, encoder: HFEncoder, batch: TokenizedBatch) -> list[EmbeddingPass]:
    """The loss's own passes if it declares them, else the encoder on every column of the batch."""
    if isinstance(loss, DefinesEmbeddingPasses):
        return loss.embedding_passes(encoder, batch)
    return [EmbeddingPass(encoder, features) for features in batch.features]


def require_embedding_based(loss: EmbeddingLoss, wrapper: str) -> None:
    """Raise a ``ValueError`` unless ``loss`` is computed from embeddings of known forward passes.

    Losses that override ``training_loss`` without declaring ``embedding_passes`` (per-layer losses, a
    decoder, gradient caching) control their forward passes themselves, so a wrapper cannot re-run them.

    Args:
        loss: The loss to be wrapped.
        wrapper: The wrapper's name, for the message.
    """
    if type(loss).training_loss is not EmbeddingLoss.training_loss and not isinstance(loss, DefinesEmbeddingPasses):
        raise ValueError(
            f"{wrapper} cannot wrap {type(loss).__name__}: it controls its own forward passes (it overrides "
            "training_loss); expected a loss computed from the batch's embeddings (wrap the other way round)"
        )
