"""Every valid triplet of the batch."""

from __future__ import annotations

from torch import Tensor

from lightning_modules.miners.base import TripletMiner, Triplets
from lightning_modules.miners.triplet_masks import negative_pair_mask, positive_pair_mask


class AllTripletsMiner(TripletMiner):
    """All ``(a, p, n)`` with ``label(a) == label(p) != label(n)`` and ``a != p``.

    Memory is ``O(#positive pairs x B)``, not ``O(B^3)``: negatives are enumerated per positive pair.
    """

    def mine(self, distances: Tensor, labels: Tensor) -> Triplets:
        """Enumerate the valid triplets (``distances`` is unused: the selection depends on labels only)."""
        anchors, positives = positive_pair_mask(labels).nonzero(as_tuple=True)
        pair, negatives = negative_pair_mask(labels)[anchors].nonzero(as_tuple=True)
        return anchors[pair], positives[pair], negatives
