"""MegaBatchMargin: hinge on the positive score and on the hardest in-batch negative score."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.distances import CosineSimilarity
from lightning_modules.losses.base import EmbeddingLoss, LossOutput
from lightning_modules.losses.input_checks import check_columns


class MegaBatchMarginLoss(EmbeddingLoss):
    """MegaBatchMargin loss on (anchor, positive) pairs with the hardest in-batch negative.

    For each anchor ``a_i``, the positive ``p_i`` should have cosine similarity at least
    ``positive_margin``, and the most similar other positive ``p_j`` (the hardest negative) at most
    ``negative_margin``::

        loss = mean_i [ relu(positive_margin - cos(a_i, p_i))
                        + relu(max_{j != i} cos(a_i, p_j) - negative_margin) ]

    The math is that of sentence-transformers' ``MegaBatchMarginLoss``. There, the mini-batched
    version re-encodes chunks with gradient caching to fit very large batches; here the loss is a
    pure function of the embeddings (gradient caching is a training strategy), and the mini-batched
    version only scores the anchors in chunks of ``mini_batch_size`` to bound the memory of the
    similarity matrix. Both versions give the same value and gradients.

    Args:
        positive_margin: Target lower bound of the positive cosine similarity.
        negative_margin: Target upper bound of the hardest negative's cosine similarity.
        use_mini_batched_version: Score the anchors in chunks of ``mini_batch_size``.
        mini_batch_size: Anchors per chunk (>= 1).

    Inputs:
        +---------------------------+--------+
        | Batch format              | Labels |
        +===========================+========+
        | pair (anchor, positive)   | none   |
        +---------------------------+--------+

    Requirements:
        Large batches without duplicate texts (``sampling = NO_DUPLICATES``), since every other
        positive is treated as a negative.

    Statistics:
        ``mean_pos_score``, ``mean_hardest_neg_score``, ``accuracy`` (positive scores above the
        hardest negative).

    References:
        - Wieting and Gimpel, ParaNMT-50M, https://arxiv.org/abs/1711.05732
    """

    accepts: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.PAIR})
    sampling: ClassVar[BatchSampling] = BatchSampling.NO_DUPLICATES

    def __init__(
        self,
        positive_margin: float = 0.8,
        negative_margin: float = 0.3,
        use_mini_batched_version: bool = True,
        mini_batch_size: int = 50,
    ) -> None:
        super().__init__()
        if mini_batch_size < 1:
            raise ValueError(f"mini_batch_size must be >= 1, got {mini_batch_size}.")
        self.positive_margin = positive_margin
        self.negative_margin = negative_margin
        self.use_mini_batched_version = use_mini_batched_version
        self.mini_batch_size = mini_batch_size

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """Hinge on positive and hardest-negative cosine scores; ``labels`` are ignored."""
        check_columns(type(self).__name__, embeddings, 2)
        anchors, positives = embeddings
        batch_size = anchors.shape[0]
        chunk = self.mini_batch_size if self.use_mini_batched_version else batch_size
        positive_scores, hardest_negative_scores = [], []
        for begin in range(0, batch_size, chunk):
            scores = CosineSimilarity().pairwise(anchors[begin : begin + chunk], positives)
            rows = torch.arange(scores.shape[0], device=scores.device)
            own = torch.zeros_like(scores, dtype=torch.bool)
            own[rows, rows + begin] = True
            positive_scores.append(scores[rows, rows + begin])
            hardest_negative_scores.append(scores.masked_fill(own, -torch.inf).max(1).values)
        positive = torch.cat(positive_scores)
        hardest_negative = torch.cat(hardest_negative_scores)
        loss = (F.relu(self.positive_margin - positive) + F.relu(hardest_negative - self.negative_margin)).mean()
        stats = {
            "mean_pos_score": positive.detach().mean(),
            "mean_hardest_neg_score": hardest_negative.detach().mean(),
            "accuracy": (positive > hardest_negative).float().mean(),
        }
        return LossOutput(loss, stats)

    def extra_repr(self) -> str:
        """Constructor arguments shown by ``repr``."""
        return (
            f"positive_margin={self.positive_margin}, negative_margin={self.negative_margin}, "
            f"use_mini_batched_version={self.use_mini_batched_version}, "
            f"mini_batch_size={self.mini_batch_size}"
        )
