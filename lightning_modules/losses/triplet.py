"""Triplet loss on explicit (anchor, positive, negative) triplets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch.nn.functional as F
from torch import Tensor

from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.distances import MetricDistanceName
from lightning_modules.losses.base import EmbeddingLoss, LossOutput
from lightning_modules.losses.input_checks import check_columns, check_non_negative, get_metric_distance
from lightning_modules.losses.triplet_statistics import triplet_statistics


class TripletLoss(EmbeddingLoss):
    """Triplet loss on explicit triplets.

    The anchor should be closer to the positive than to the negative by a margin::

        loss = mean relu(d(anchor, positive) - d(anchor, negative) + margin)

    The math is that of sentence-transformers' ``TripletLoss`` (whose margin argument is called
    ``triplet_margin``). L1/L2 distances go through ``F.pairwise_distance`` (eps 1e-6), where
    sentence-transformers' ``TripletDistanceMetric`` uses an exact norm: values agree to ~1e-6.

    Args:
        distance_metric: ``euclidean`` (default), ``squared_euclidean``, ``cosine`` (1 - cosine
            similarity) or ``manhattan``.
        margin: Negatives should be at least ``margin`` farther from the anchor than positives (>= 0).

    Inputs:
        +----------------------------------------+--------+
        | Batch format                           | Labels |
        +========================================+========+
        | triplet (anchor, positive, negative)   | none   |
        +----------------------------------------+--------+

    Statistics:
        ``active_fraction``, ``hard_fraction``, ``semi_hard_fraction``, ``easy_fraction`` (FaceNet
        categories relative to ``margin``), ``mean_pos_distance``, ``mean_neg_distance``,
        ``mean_violation``.

    Relations:
        - :class:`~lightning_modules.losses.batch_hard_triplet.BatchHardTripletLoss` mines the triplets
          from labelled batches instead.

    References:
        - Schroff et al., FaceNet, https://arxiv.org/abs/1503.03832
    """

    accepts: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.TRIPLET})
    sampling: ClassVar[BatchSampling] = BatchSampling.RANDOM

    def __init__(self, distance_metric: MetricDistanceName = "euclidean", margin: float = 5.0) -> None:
        super().__init__()
        distance = get_metric_distance(distance_metric)
        check_non_negative("margin", margin)
        self.distance = distance
        self.distance_metric = distance_metric
        self.margin = margin

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """Mean hinge over the triplets; ``labels`` are ignored."""
        check_columns(type(self).__name__, embeddings, 3)
        anchor, positive, negative = embeddings
        pos_distances = self.distance.paired(anchor, positive)
        neg_distances = self.distance.paired(anchor, negative)
        loss = F.relu(pos_distances - neg_distances + self.margin).mean()
        return LossOutput(loss, triplet_statistics(pos_distances, neg_distances, self.margin))

    def extra_repr(self) -> str:
        """Constructor arguments shown by ``repr``."""
        return f"distance_metric={self.distance_metric!r}, margin={self.margin}"
