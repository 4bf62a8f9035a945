"""Differentiation-free rank statistics for logging (Spearman correlation with tie handling)."""

from __future__ import annotations

import torch
from torch import Tensor


def average_ranks(values: Tensor) -> Tensor:
    """Ranks ``0 .. N-1`` of a 1-D tensor, ties sharing their average rank (as ``scipy.stats.rankdata``)."""
    order = values.argsort()
    ranks = torch.empty_like(values, dtype=torch.float64)
    ranks[order] = torch.arange(values.numel(), device=values.device, dtype=torch.float64)
    _, group, counts = torch.unique(values, return_inverse=True, return_counts=True)
    group_sums = ranks.new_zeros(counts.numel()).index_add_(0, group, ranks)
    return (group_sums / counts)[group]


@torch.no_grad()
def spearman(x: Tensor, y: Tensor) -> Tensor:
    """Spearman rank correlation of two 1-D tensors.

    Returns 0 (instead of NaN) when either input is constant, so a logged curve stays finite.
    """
    rx = average_ranks(x.detach().flatten())
    ry = average_ranks(y.detach().flatten())
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denominator = (rx.norm() * ry.norm()).clamp(min=torch.finfo(torch.float64).tiny)
    return ((rx * ry).sum() / denominator).float()
