"""Batch-hard triplet loss with a soft margin (softplus instead of a hinge)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from lightning_modules.distances import MetricDistanceName
from lightning_modules.losses.batch_triplet import BatchTripletLoss
from lightning_modules.miners import HardestTripletMiner


class BatchHardSoftMarginTripletLoss(BatchTripletLoss):
    """Batch-hard triplet loss with a soft margin: no margin to tune.

    For every anchor, its farthest positive and closest negative::

        loss = mean_a log(1 + exp(max_p d(a, p) - min_n d(a, n)))

    Identical to sentence-transformers' ``BatchHardSoftMarginTripletLoss`` on batches where every
    example has a positive and a negative; other anchors are left out (a batch without any valid
    triplet gives 0).

    Args:
        distance_metric: ``euclidean`` (default), ``squared_euclidean``, ``cosine`` (1 - cosine
            similarity) or ``manhattan``.
        gather_across_devices: Mine in the batch gathered from all ranks (gradients flow to the
            local embeddings); a no-op when not running distributed.

    Inputs:
        +---------------------+---------------+
        | Batch format        | Labels        |
        +=====================+===============+
        | labeled (sentence)  | class id      |
        +---------------------+---------------+

    Requirements:
        P x K batches: at least 2 classes with at least 2 examples each (``sampling = PK``).

    Statistics:
        As :class:`~lightning_modules.losses.batch_hard_triplet.BatchHardTripletLoss`, with margin 0:
        ``active_fraction`` equals ``hard_fraction`` and nothing is semi-hard.

    References:
        - Hermans et al., In Defense of the Triplet Loss for Person Re-Identification, https://arxiv.org/abs/1703.07737
    """

    def __init__(self, distance_metric: MetricDistanceName = "euclidean", gather_across_devices: bool = False) -> None:
        super().__init__(HardestTripletMiner(), distance_metric, 0.0, gather_across_devices)

    def reduce(self, pos_distances: Tensor, neg_distances: Tensor) -> Tensor:
        """Mean softplus of ``d(a, p) - d(a, n)``."""
        return F.softplus(pos_distances - neg_distances).mean()

    def extra_repr(self) -> str:
        """Constructor arguments shown by ``repr``."""
        return f"distance_metric={self.distance_metric!r}, gather_across_devices={self.gather_across_devices}"
