"""Detached statistics of the triplets a loss trains on (FaceNet categories, distances, violations)."""

from __future__ import annotations

import torch
from torch import Tensor


def safe_ratio(numerator: Tensor, denominator: Tensor) -> Tensor:
    """``numerator / denominator`` for counts, 0 where the count is 0 (keeps logged curves NaN-free)."""
    return torch.where(denominator > 0, numerator / denominator.clamp(min=1), 0.0)


def masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``values[mask]``, 0 when the mask is empty."""
    return safe_ratio((values * mask).sum(), mask.sum())


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
    violation = d_ap - d_an + margin
    active, hard = violation > 0, d_an < d_ap
    # One stacked reduction instead of one per statistic: the losses compute these every step.
    sums = torch.stack([active, hard, active & ~hard, ~active]).sum(1, dtype=d_ap.dtype)
    sums = torch.cat([sums, torch.stack([d_ap, d_an]).sum(1), violation.clamp(min=0).sum().unsqueeze(0)])
    counts = torch.full_like(sums, float(d_ap.numel()))
    counts[-1] = sums[0]  # the mean violation is over the active triplets
    means = safe_ratio(sums, counts)
    names = (
        "active_fraction",
        "hard_fraction",
        "semi_hard_fraction",
        "easy_fraction",
        "mean_pos_distance",
        "mean_neg_distance",
        "mean_violation",
    )
    return dict(zip(names, means.unbind(), strict=True))
