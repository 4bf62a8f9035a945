"""Batch-hard mining: the farthest positive and the closest negative of every anchor."""

from __future__ import annotations

import math

from torch import Tensor

from lightning_modules.miners.base import TripletMiner, Triplets
from lightning_modules.miners.triplet_masks import negative_pair_mask, positive_pair_mask


class HardestTripletMiner(TripletMiner):
    """One triplet per anchor: its hardest positive and hardest negative (Hermans et al., 2017).

    Anchors without a positive or without a negative in the batch are skipped.
    """

    def mine(self, distances: Tensor, labels: Tensor) -> Triplets:
        """Pick ``argmax_p d(a, p)`` and ``argmin_n d(a, n)`` for every anchor that has both."""
        farthest, hardest_positive = distances.masked_fill(~positive_pair_mask(labels), -math.inf).max(1)
        closest, hardest_negative = distances.masked_fill(~negative_pair_mask(labels), math.inf).min(1)
        # An anchor without a positive (or a negative) keeps the fill value -inf (+inf).
        anchors = (farthest.isfinite() & closest.isfinite()).nonzero(as_tuple=True)[0]
        return anchors, hardest_positive[anchors], hardest_negative[anchors]
