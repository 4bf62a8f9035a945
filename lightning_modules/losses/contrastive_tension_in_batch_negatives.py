"""ContrastiveTensionLossInBatchNegatives: CT with every other sentence of the batch as a negative."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import torch
from torch import Tensor, nn

from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.losses.base import EmbeddingLoss, LossOutput
from lightning_modules.losses.contrastive_tension import SecondEncoderMixin
from lightning_modules.losses.multiple_negatives_ranking import RankingSimilarity
from lightning_modules.losses.multiple_negatives_symmetric_ranking import (
    MultipleNegativesSymmetricRankingLoss,
)


class ContrastiveTensionLossInBatchNegatives(SecondEncoderMixin, EmbeddingLoss):
    r"""Contrastive Tension with in-batch negatives: two encoders must match each sentence with itself.

    With :math:`a_i = f_1(s_i)` (a copy of the encoder made at :meth:`bind_encoder`), :math:`b_i = f_2(s_i)`
    (the trained encoder) and :math:`S_{ij} = e^{t}\,\mathrm{sim}(a_i, b_j)` with a learnable log-scale
    :math:`t` (initialised to :math:`\log(\text{scale})`):

    .. math::
        \mathcal{L} = \tfrac{1}{2}\big(\mathrm{CE}(S, I) + \mathrm{CE}(S^\top, I)\big)

    i.e. ``MultipleNegativesSymmetricRankingLoss`` over the pairs ``(a_i, b_i)``.

    Args:
        scale: Initial value of the learnable similarity scale (``1 / temperature``).
        similarity_fct: ``cosine_similarity`` (default) or ``dot``.
        gather_across_devices: Gather both encoders' embeddings from every rank (with gradients).
        freeze_copy: Keep the copy's weights fixed. ``False`` (default) trains both encoders, as
            sentence-transformers (whose trainer optimises the loss's parameters) does.

    Inputs:
        +------------------+--------+
        | Texts            | Labels |
        +==================+========+
        | single sentences | none   |
        +------------------+--------+

    Requirements:
        Batches without duplicate sentences. The LightningModule must call :meth:`bind_encoder` once.

    Relations:
        :class:`~lightning_modules.losses.contrastive_tension.ContrastiveTensionLoss`: the sampled-pairs form.

    Statistics:
        Those of MultipleNegativesRankingLoss (``accuracy``, ``positive_similarity``,
        ``hardest_negative_similarity``) and the current ``scale``.

    References:
        Carlsson et al. 2021, Semantic Re-tuning with Contrastive Tension (https://openreview.net/forum?id=Ov_sMNau-PF).

    Example:
        ``loss: {class_path: lightning_modules.losses.contrastive_tension_in_batch_negatives.``
        ``ContrastiveTensionLossInBatchNegatives, init_args: {scale: 20.0}}``
    """

    accepts: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.SINGLE})
    sampling: ClassVar[BatchSampling] = BatchSampling.NO_DUPLICATES

    def __init__(
        self,
        scale: float = 20.0,
        similarity_fct: RankingSimilarity = "cosine_similarity",
        gather_across_devices: bool = False,
        freeze_copy: bool = False,
    ) -> None:
        super().__init__()
        self.ranking = MultipleNegativesSymmetricRankingLoss(
            scale=scale, similarity_fct=similarity_fct, gather_across_devices=gather_across_devices
        )
        self.logit_scale = nn.Parameter(torch.tensor(math.log(scale)))
        self.freeze_copy = freeze_copy
        self.copy_encoder = None

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """Symmetric in-batch cross-entropy between the two encoders' embeddings.

        Args:
            embeddings: ``[copy(sentences), encoder(sentences)]``, each ``(B, D)``.
            labels: Ignored.

        Returns:
            The loss and statistics.
        """
        if len(embeddings) != 2:
            raise ValueError(f"{type(self).__name__} needs 2 embedding columns, got {len(embeddings)}")
        scale = self.logit_scale.exp()
        out = self.ranking.ranking_loss(embeddings, scale)
        out.stats["scale"] = scale.detach()
        return out
