"""Contrastive loss on labelled pairs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

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


class ContrastiveLoss(EmbeddingLoss):
    """Contrastive loss on labelled pairs.

    Positive pairs are pulled together, negative pairs pushed beyond a margin::

        loss = 0.5 * (y * d^2 + (1 - y) * relu(margin - d)^2)     (mean or sum over pairs)

    The math is that of sentence-transformers' ``ContrastiveLoss``.

    Args:
        distance_metric: ``cosine`` (1 - cosine similarity, default), ``euclidean``,
            ``squared_euclidean`` or ``manhattan``.
        margin: Negative pairs closer than this are penalised (>= 0).
        size_average: Average over the batch (``True``) or sum.

    Inputs:
        +------------------------------------+--------------------------+
        | Batch format                       | Labels                   |
        +====================================+==========================+
        | binary_pair (sentence1, sentence2) | 1 positive, 0 negative   |
        +------------------------------------+--------------------------+

    Statistics:
        ``mean_pos_distance``, ``mean_neg_distance``, ``active_neg_fraction`` (negatives inside the
        margin).

    Relations:
        - :class:`~lightning_modules.losses.online_contrastive.OnlineContrastiveLoss` keeps only the
          hard pairs of the batch.

    References:
        - Hadsell et al., Dimensionality Reduction by Learning an Invariant Mapping, CVPR 2006
    """

    accepts: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.BINARY_PAIR})
    sampling: ClassVar[BatchSampling] = BatchSampling.RANDOM

    def __init__(
        self, distance_metric: MetricDistanceName = "cosine", margin: float = 0.5, size_average: bool = True
    ) -> None:
        super().__init__()
        self.distance = get_metric_distance(distance_metric)
        check_non_negative("margin", margin)
        self.distance_metric = distance_metric
        self.margin = margin
        self.size_average = size_average

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """Contrastive loss of the pairs; see the class docstring."""
        check_columns(type(self).__name__, embeddings, 2)
        labels = check_labels(type(self).__name__, labels, embeddings[0].shape[0])
        distances = self.distance.paired(embeddings[0], embeddings[1])
        y = labels.to(distances.dtype)
        losses = 0.5 * (y * distances.pow(2) + (1 - y) * F.relu(self.margin - distances).pow(2))
        loss = losses.mean() if self.size_average else losses.sum()
        return LossOutput(loss, pair_distance_statistics(distances, labels, self.margin))

    def extra_repr(self) -> str:
        """Constructor arguments shown by ``repr``."""
        return f"distance_metric={self.distance_metric!r}, margin={self.margin}, size_average={self.size_average}"
