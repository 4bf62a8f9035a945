"""Batch semi-hard triplet loss: one semi-hard negative per positive pair."""

from __future__ import annotations

from lightning_modules.distances import MetricDistanceName
from lightning_modules.losses.batch_triplet import BatchTripletLoss
from lightning_modules.miners import SemiHardTripletMiner


class BatchSemiHardTripletLoss(BatchTripletLoss):
    """Batch semi-hard triplet loss over a labelled batch (FaceNet mining).

    For every positive pair ``(a, p)`` the negative is the closest one that is still farther than the
    positive; if none is, the farthest negative. The hinge is averaged over the positive pairs::

        loss = mean_{(a, p)} relu(d(a, p) - d(a, n_semi_hard(a, p)) + margin)

    Identical to sentence-transformers' ``BatchSemiHardTripletLoss`` on batches where every anchor has
    a negative; positive pairs without any negative (a one-class batch) are left out, so such a batch
    gives 0.

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
        ``valid_triplets``, ``mined_triplets`` (one per positive pair), ``active_fraction``,
        ``hard_fraction``, ``semi_hard_fraction``, ``easy_fraction`` (over the mined triplets),
        ``mean_pos_distance``, ``mean_neg_distance``, ``mean_violation``.

    References:
        - Schroff et al., FaceNet, https://arxiv.org/abs/1503.03832
        - TensorFlow Addons ``triplet_semihard_loss``
    """

    def __init__(
        self,
        distance_metric: MetricDistanceName = "euclidean",
        margin: float = 5.0,
        gather_across_devices: bool = False,
    ) -> None:
        super().__init__(SemiHardTripletMiner(), distance_metric, margin, gather_across_devices)
