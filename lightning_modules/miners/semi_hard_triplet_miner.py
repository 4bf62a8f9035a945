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
        """Select the semi-hard negative of every positive pair.

        Each anchor's negatives are sorted once by distance; a binary search then finds, for each of its
        positives, the first negative farther than the positive: ``O(B^2 log B)`` time and ``O(B^2)``
        memory, instead of comparing every positive pair with every negative.
        """
        negative = negative_pair_mask(labels)
        n_negatives = negative.sum(1)
        # Non-negatives sort last (+inf); the stable sort keeps ties in index order, as argmin would.
        sorted_distances, order = distances.masked_fill(~negative, math.inf).sort(dim=1, stable=True)
        first_farther = torch.searchsorted(sorted_distances, distances.contiguous(), right=True)
        anchors, positives = positive_pair_mask(labels).nonzero(as_tuple=True)
        keep = n_negatives[anchors] > 0
        anchors, positives = anchors[keep], positives[keep]
        rank = first_farther[anchors, positives]
        # No negative is farther than the positive: fall back to the farthest negative.
        rank = torch.where(rank < n_negatives[anchors], rank, n_negatives[anchors] - 1)
        return anchors, positives, order[anchors, rank]
