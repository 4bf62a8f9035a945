"""Batch-all triplet loss: every valid triplet of a labelled batch."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from lightning_modules.losses.batch_triplet import BatchTripletLoss
from lightning_modules.miners import AllTripletsMiner


class BatchAllTripletLoss(BatchTripletLoss):
    """Batch-all triplet loss over a labelled batch.

    Every valid triplet ``(a, p, n)`` (``label(a) == label(p) != label(n)``, ``a != p``) contributes;
    the hinge sum is averaged over the triplets with a positive loss only, so easy triplets do not
    dilute the signal::

        loss = sum relu(d(a, p) - d(a, n) + margin) / #{triplets with loss > 0}

    The math is that of sentence-transformers' ``BatchAllTripletLoss``.

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
        ``valid_triplets``, ``mined_triplets`` (equal here), ``active_fraction``, ``hard_fraction``,
        ``semi_hard_fraction``, ``easy_fraction`` (over all valid triplets, relative to ``margin``),
        ``mean_pos_distance``, ``mean_neg_distance``, ``mean_violation``.

    Relations:
        - :class:`~lightning_modules.losses.batch_hard_triplet.BatchHardTripletLoss` keeps only the
          hardest positive and negative of each anchor.

    References:
        - Hermans et al., In Defense of the Triplet Loss for Person Re-Identification, https://arxiv.org/abs/1703.07737
        - https://omoindrot.github.io/triplet-loss
    """

    def __init__(
        self, distance_metric: str = "euclidean", margin: float = 5.0, gather_across_devices: bool = False
    ) -> None:
        super().__init__(AllTripletsMiner(), distance_metric, margin, gather_across_devices)

    def reduce(self, pos_distances: Tensor, neg_distances: Tensor) -> Tensor:
        """Hinge sum over all triplets divided by the number of active ones (1e-16 guards, as ST)."""
        losses = F.relu(pos_distances - neg_distances + self.margin)
        return losses.sum() / ((losses > 1e-16).sum() + 1e-16)
