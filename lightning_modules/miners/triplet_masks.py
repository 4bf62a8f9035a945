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
    """Number of valid triplets (``label(a) == label(p) != label(n)``, ``a != p``), without building them."""
    same = (labels.unsqueeze(0) == labels.unsqueeze(1)).sum(1)
    return ((same - 1) * (labels.numel() - same)).sum()
