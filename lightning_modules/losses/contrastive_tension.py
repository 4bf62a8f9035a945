"""ContrastiveTensionLoss: two encoders score identical sentences high and random pairs low."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from torch import Tensor, nn

from core.batch_formats import BatchFormat, BatchSampling, TokenizedBatch
from lightning_modules.losses.base import EmbeddingLoss, LossOutput
from lightning_modules.strategies.embedding_passes import EmbeddingPass

if TYPE_CHECKING:
    from lightning_modules.encoders.hf_encoder import HFEncoder


class SecondEncoderMixin:
    """The second encoder of Contrastive Tension: a deep copy of the trained encoder, made once.

    The LightningModule calls :meth:`bind_encoder` once, with the encoder it trains. The copy embeds the
    first column, the trained encoder the second; :meth:`embedding_passes` declares this to gradient caching.
    """

    freeze_copy: bool
    copy_encoder: nn.Module | None

    def bind_encoder(self, encoder: HFEncoder) -> None:
        """Copy ``encoder`` (its weights at this moment) as the second encoder.

        Args:
            encoder: The encoder the LightningModule trains.
        """
        # Assigning a Module registers it as a submodule, so its weights train with the loss's parameters.
        self.copy_encoder = copy.deepcopy(encoder)
        # The copy trains exactly the parameters the encoder trains (not, e.g., its frozen pooler head).
        if self.freeze_copy:
            self.copy_encoder.requires_grad_(False)

    def embedding_passes(self, encoder: HFEncoder, batch: TokenizedBatch) -> list[EmbeddingPass]:
        """Column 1 (or the single column) through the copy, column 2 (or the same) through ``encoder``."""
        if self.copy_encoder is None:
            raise RuntimeError(f"{type(self).__name__} needs bind_encoder(encoder) before training")
        return [
            EmbeddingPass(self.copy_encoder, batch.features[0]),
            EmbeddingPass(encoder, batch.features[-1]),
        ]

    def training_loss(self, encoder: HFEncoder, batch: TokenizedBatch) -> LossOutput:
        """Embed with both encoders and compute the loss."""
        embeddings = [p.encode(p.features) for p in self.embedding_passes(encoder, batch)]
        return self(embeddings, batch.labels)  # type: ignore[operator]


class ContrastiveTensionLoss(SecondEncoderMixin, EmbeddingLoss):
    r"""Contrastive Tension (CT): the dot product of two encoders' embeddings, as a logit of "same sentence".

    .. math::
        \mathcal{L} = \sum_i \mathrm{BCEWithLogits}\big(f_1(s_{1,i}) \cdot f_2(s_{2,i}),\; y_i\big)

    where :math:`f_1` is a copy of the encoder made at :meth:`bind_encoder` and :math:`f_2` the trained
    encoder (summed, not averaged, as sentence-transformers). Unsupervised: only raw sentences are needed.

    Args:
        freeze_copy: Keep the copy's weights fixed. ``False`` (default) trains both encoders, as the CT paper
            and sentence-transformers (whose trainer optimises the loss's parameters) do.

    Inputs:
        +----------------------------------+------------------------------+
        | Texts                            | Labels                       |
        +==================================+==============================+
        | (sentence1, sentence2) pairs     | 1 if identical, else 0       |
        +----------------------------------+------------------------------+

    Requirements:
        The DataModule builds the pairs from single sentences like sentence-transformers'
        ``ContrastiveTensionDataLoader``: one pair in ``pos_neg_ratio`` (8) is a sentence with itself
        (label 1), the others pair it with another random sentence (label 0). The LightningModule must call
        :meth:`bind_encoder` once before training.

    Relations:
        :class:`~lightning_modules.losses.contrastive_tension_in_batch_negatives.ContrastiveTensionLossInBatchNegatives`
        uses all other sentences of the batch as negatives instead of sampled pairs.

    Statistics:
        ``accuracy`` (sign of the logit matches the label), ``positive_score`` and ``negative_score`` (mean
        logits of identical and of random pairs).

    References:
        Carlsson et al. 2021, Semantic Re-tuning with Contrastive Tension (https://openreview.net/forum?id=Ov_sMNau-PF).

    Example:
        ``loss: {class_path: lightning_modules.losses.contrastive_tension.ContrastiveTensionLoss}``
    """

    accepts: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.BINARY_PAIR})
    sampling: ClassVar[BatchSampling] = BatchSampling.RANDOM

    def __init__(self, freeze_copy: bool = False) -> None:
        super().__init__()
        self.freeze_copy = freeze_copy
        self.copy_encoder = None
        self.criterion = nn.BCEWithLogitsLoss(reduction="sum")

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """Binary cross-entropy of the paired dot products.

        Args:
            embeddings: ``[copy(sentence1), encoder(sentence2)]``, each ``(B, D)``.
            labels: ``(B,)`` 0/1, 1 where the two sentences are identical.

        Returns:
            The summed loss and statistics.
        """
        if len(embeddings) != 2:
            raise ValueError(f"ContrastiveTensionLoss needs 2 embedding columns, got {len(embeddings)}")
        if labels is None:
            raise ValueError("ContrastiveTensionLoss needs 0/1 labels (1 for identical sentences), got None")
        scores = (embeddings[0] * embeddings[1]).sum(-1)
        targets = labels.view(-1).to(scores.dtype)
        loss = self.criterion(scores, targets)
        detached = scores.detach()
        stats = {"accuracy": ((detached > 0) == (targets > 0.5)).float().mean()}
        for name, mask in (("positive_score", targets > 0.5), ("negative_score", targets <= 0.5)):
            if mask.any():
                stats[name] = detached[mask].mean()
        return LossOutput(loss, stats)
