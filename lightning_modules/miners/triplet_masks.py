"""Label masks shared by every triplet miner."""

from __future__ import annotations

import torch
from torch import Tensor


def positive_pair_mask(labels: Tensor) -> Tensor:
    """``(B, B)`` bool: ``mask[a, p]`` iff ``a != p`` and both share a label."""
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    return same & ~torch.eye(labels.numel(), dtype=torch.bool, device=labels.device)


def negative_pair_mask(labels: Tensor) -> Tensor:
    """``(B, B)`` bool: ``mask[a, n]`` iff the labels differ."""
    return labels.unsqueeze(0) != labels.unsqueeze(1)


def count_valid_triplets(labels: Tensor) -> Tensor:
    """Number of valid triplets (``label(a) == label(p) != label(n)``, ``a != p``), from the class sizes.

    A class of ``n`` examples contributes ``n (n - 1)`` ordered positive pairs, each with ``B - n`` negatives.
    """
    counts = torch.unique(labels, return_counts=True)[1]
    return (counts * (counts - 1) * (labels.numel() - counts)).sum()
