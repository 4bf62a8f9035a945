"""Detached statistics of the triplets a loss trains on (FaceNet categories, distances, violations)."""

from __future__ import annotations

import torch
from torch import Tensor


def masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``values[mask]``, 0 when the mask is empty (keeps logged curves NaN-free)."""
    count = mask.sum()
    return torch.where(count > 0, (values * mask).sum() / count.clamp(min=1), values.new_zeros(()))


@torch.no_grad()
def triplet_statistics(pos_distances: Tensor, neg_distances: Tensor, margin: float) -> dict[str, Tensor]:
    """Describe triplets by ``d(a, p)`` and ``d(a, n)`` relative to ``margin`` (FaceNet definitions).

    * hard: ``d(a, n) < d(a, p)``
    * semi-hard: ``d(a, p) <= d(a, n) < d(a, p) + margin``
    * easy: ``d(a, n) >= d(a, p) + margin`` (zero hinge loss)

    Args:
        pos_distances: ``(T,)`` anchor-positive distances of the triplets used by the loss.
        neg_distances: ``(T,)`` anchor-negative distances of the same triplets.
        margin: The loss margin (0 for soft-margin losses, where nothing is semi-hard).

    Returns:
        ``active_fraction`` (positive hinge), ``hard_fraction``, ``semi_hard_fraction``, ``easy_fraction``,
        ``mean_pos_distance``, ``mean_neg_distance`` and ``mean_violation`` (mean hinge value over the
        active triplets); all zero when there is no triplet.
    """
    d_ap, d_an = pos_distances.detach().float(), neg_distances.detach().float()
    every = torch.ones_like(d_ap, dtype=torch.bool)
    violation = d_ap - d_an + margin
    active = violation > 0
    hard = d_an < d_ap
    return {
        "active_fraction": masked_mean(active.float(), every),
        "hard_fraction": masked_mean(hard.float(), every),
        "semi_hard_fraction": masked_mean((active & ~hard).float(), every),
        "easy_fraction": masked_mean((~active).float(), every),
        "mean_pos_distance": masked_mean(d_ap, every),
        "mean_neg_distance": masked_mean(d_an, every),
        "mean_violation": masked_mean(violation, active),
    }
