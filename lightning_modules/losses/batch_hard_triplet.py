"""Batch-hard triplet loss: the hardest positive and hardest negative of every anchor."""

from __future__ import annotations

from lightning_modules.distances import MetricDistanceName
from lightning_modules.losses.batch_triplet import BatchTripletLoss
from lightning_modules.miners import HardestTripletMiner


class BatchHardTripletLoss(BatchTripletLoss):
    """Batch-hard triplet loss over a labelled batch.

    For every anchor ``a``, take its farthest positive and its closest negative in the batch::

        loss = mean_a relu(max_p d(a, p) - min_n d(a, n) + margin)

    Identical to sentence-transformers' ``BatchHardTripletLoss`` on batches where every example has
    a positive and a negative (what P x K sampling guarantees). Unlike it, anchors without a
    positive or a negative are left out instead of contributing a degenerate term, so a batch
    without any valid triplet gives 0.

    Args:
        distance_metric: ``euclidean`` (default), ``squared_euclidean``, ``cosine`` (1 - cosine
            similarity) or ``manhattan``.
        margin: Negatives should be at least ``margin`` farther from the anchor than positives.
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
        ``valid_triplets``, ``mined_triplets``, ``active_fraction``, ``hard_fraction``,
        ``semi_hard_fraction``, ``easy_fraction`` (over the mined triplets, relative to ``margin``),
        ``mean_pos_distance``, ``mean_neg_distance``, ``mean_violation``.

    Relations:
        - :class:`~lightning_modules.losses.batch_all_triplet.BatchAllTripletLoss` uses all valid triplets.
        - :class:`~lightning_modules.losses.batch_semi_hard_triplet.BatchSemiHardTripletLoss` uses
          semi-hard negatives.
        - :class:`~lightning_modules.losses.batch_hard_soft_margin_triplet.BatchHardSoftMarginTripletLoss`
          replaces the margin by a softplus.

    References:
        - Hermans et al., In Defense of the Triplet Loss for Person Re-Identification, https://arxiv.org/abs/1703.07737
        - https://omoindrot.github.io/triplet-loss
    """

    def __init__(
        self,
        distance_metric: MetricDistanceName = "euclidean",
        margin: float = 5.0,
        gather_across_devices: bool = False,
    ) -> None:
        super().__init__(HardestTripletMiner(), distance_metric, margin, gather_across_devices)
