"""Semi-hard mining as in FaceNet / TensorFlow Addons (the rule sentence-transformers uses)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from lightning_modules.miners.base import TripletMiner, Triplets
from lightning_modules.miners.triplet_masks import negative_pair_mask, positive_pair_mask


class SemiHardTripletMiner(TripletMiner):
    """One triplet per positive pair ``(a, p)``.

    The negative is the closest one that is still farther from the anchor than the positive
    (``d(a, n) > d(a, p)``); when no negative is farther, the farthest negative is used instead.
    Positive pairs whose anchor has no negative in the batch are skipped.
    """

    def mine(self, distances: Tensor, labels: Tensor) -> Triplets:
        """Select the semi-hard negative of every positive pair."""
        negative = negative_pair_mask(labels)
        anchors, positives = positive_pair_mask(labels).nonzero(as_tuple=True)
        keep = negative[anchors].any(1)
        anchors, positives = anchors[keep], positives[keep]
        rows, negative = distances[anchors], negative[anchors]
        farther = negative & (rows > distances[anchors, positives].unsqueeze(1))
        nearest_farther = rows.masked_fill(~farther, math.inf).argmin(1)
        farthest = rows.masked_fill(~negative, -math.inf).argmax(1)
        return anchors, positives, torch.where(farther.any(1), nearest_farther, farthest)
