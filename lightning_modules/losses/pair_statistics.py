"""Detached statistics of labelled pair distances, shared by the contrastive losses."""

from __future__ import annotations

import torch
from torch import Tensor

from lightning_modules.losses.triplet_statistics import masked_mean


@torch.no_grad()
def pair_distance_statistics(distances: Tensor, labels: Tensor, margin: float) -> dict[str, Tensor]:
    """Mean distance of positive and negative pairs and the fraction of negatives inside the margin.

    Args:
        distances: ``(B,)`` pair distances.
        labels: ``(B,)`` 1 for positive pairs, 0 for negative pairs.
        margin: Negatives closer than this are penalised.

    Returns:
        ``mean_pos_distance``, ``mean_neg_distance``, ``active_neg_fraction``; 0 for an absent side.
    """
    d = distances.detach().float()
    positive, negative = labels == 1, labels == 0
    return {
        "mean_pos_distance": masked_mean(d, positive),
        "mean_neg_distance": masked_mean(d, negative),
        "active_neg_fraction": masked_mean((d < margin).float(), negative),
    }
