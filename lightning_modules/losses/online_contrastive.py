"""Online contrastive loss: the contrastive loss on the hard pairs of the batch only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.distances import MetricDistanceName
from lightning_modules.losses.base import EmbeddingLoss, LossOutput
from lightning_modules.losses.input_checks import (
    check_columns,
    check_labels,
    check_non_negative,
    get_metric_distance,
)
from lightning_modules.losses.pair_statistics import pair_distance_statistics


class OnlineContrastiveLoss(EmbeddingLoss):
    """Online contrastive loss: contrastive terms for hard pairs only, summed.

    Hard positives are positive pairs farther apart than the closest negative pair; hard negatives
    are negative pairs closer than the farthest positive pair (with only one kind of pair in the
    batch, the batch mean of that kind is the threshold)::

        loss = sum_{hard pos} d^2 + sum_{hard neg} relu(margin - d)^2

    The math is that of sentence-transformers' ``OnlineContrastiveLoss``.

    Args:
        distance_metric: ``cosine`` (1 - cosine similarity, default), ``euclidean``,
            ``squared_euclidean`` or ``manhattan``.
        margin: Negative pairs closer than this are penalised (>= 0).

    Inputs:
        +------------------------------------+--------------------------+
        | Batch format                       | Labels                   |
        +====================================+==========================+
        | binary_pair (sentence1, sentence2) | 1 positive, 0 negative   |
        +------------------------------------+--------------------------+

    Statistics:
        ``hard_pos_fraction`` and ``hard_neg_fraction`` (of the positives / negatives),
        ``mean_pos_distance``, ``mean_neg_distance``, ``active_neg_fraction``.

    Relations:
        - :class:`~lightning_modules.losses.contrastive.ContrastiveLoss` uses every pair.
    """

    accepts: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.BINARY_PAIR})
    sampling: ClassVar[BatchSampling] = BatchSampling.RANDOM

    def __init__(self, distance_metric: MetricDistanceName = "cosine", margin: float = 0.5) -> None:
        super().__init__()
        self.distance = get_metric_distance(distance_metric)
        check_non_negative("margin", margin)
        self.distance_metric = distance_metric
        self.margin = margin

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """Contrastive loss of the hard pairs; see the class docstring."""
        check_columns(type(self).__name__, embeddings, 2)
        labels = check_labels(type(self).__name__, labels, embeddings[0].shape[0])
        distances = self.distance.paired(embeddings[0], embeddings[1])
        negatives, positives = distances[labels == 0], distances[labels == 1]
        neg_threshold = positives.max() if len(positives) else negatives.mean()
        pos_threshold = negatives.min() if len(negatives) else positives.mean()
        hard_negatives = negatives[negatives < neg_threshold]
        hard_positives = positives[positives > pos_threshold]
        loss = hard_positives.pow(2).sum() + F.relu(self.margin - hard_negatives).pow(2).sum()
        stats = pair_distance_statistics(distances, labels, self.margin)
        stats["hard_pos_fraction"] = torch.tensor(len(hard_positives) / max(len(positives), 1))
        stats["hard_neg_fraction"] = torch.tensor(len(hard_negatives) / max(len(negatives), 1))
        return LossOutput(loss, stats)

    def extra_repr(self) -> str:
        """Constructor arguments shown by ``repr``."""
        return f"distance_metric={self.distance_metric!r}, margin={self.margin}"
