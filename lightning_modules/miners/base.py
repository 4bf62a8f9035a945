"""The miner contract: select ``(anchor, positive, negative)`` index triplets without gradients."""

from __future__ import annotations

import torch
from torch import Tensor

Triplets = tuple[Tensor, Tensor, Tensor]


class TripletMiner:
    """Selects triplets from a pairwise distance matrix and the batch labels.

    Miners only choose indices; the loss gathers the (differentiable) distances at those indices, so a
    miner never touches the autograd graph. Distances must be oriented so that smaller is closer.
    """

    def mine(self, distances: Tensor, labels: Tensor) -> Triplets:
        """Return the ``(anchors, positives, negatives)`` index tensors, each ``(T,)`` int64.

        Args:
            distances: ``(B, B)`` pairwise distances (smaller is closer).
            labels: ``(B,)`` class ids.
        """
        raise NotImplementedError

    def __call__(self, distances: Tensor, labels: Tensor) -> Triplets:
        """Run :meth:`mine` on detached distances under ``no_grad``."""
        with torch.no_grad():
            return self.mine(distances.detach(), labels)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
