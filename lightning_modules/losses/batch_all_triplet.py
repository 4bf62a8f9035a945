"""Batch-all triplet loss: every valid triplet of a labelled batch."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from lightning_modules.distances import MetricDistanceName
from lightning_modules.losses.base import Statistics
from lightning_modules.losses.batch_triplet import BatchTripletLoss
from lightning_modules.losses.triplet_statistics import safe_ratio
from lightning_modules.miners import count_valid_triplets, negative_pair_mask, positive_pair_mask


class BatchAllTripletLoss(BatchTripletLoss):
    """Batch-all triplet loss over a labelled batch.

    Every valid triplet ``(a, p, n)`` (``label(a) == label(p) != label(n)``, ``a != p``) contributes;
    the hinge sum is averaged over the triplets with a positive loss only, so easy triplets do not
    dilute the signal::

        loss = sum relu(d(a, p) - d(a, n) + margin) / #{triplets with loss > 0}

    The math is that of sentence-transformers' ``BatchAllTripletLoss``; the algorithm is not: the
    ``O(B^3)`` triplets are never listed (:func:`active_triplet_weights` counts them by sorting), so a
    batch of 1,024 with two classes takes ~0.1 s and ~0.1 GB instead of ~15 s and ~11 GB
    (``benchmarks/loss_kernels.py``).

    Args:
        distance_metric: ``euclidean`` (default), ``squared_euclidean``, ``cosine`` (1 - cosine
            similarity) or ``manhattan``.
        margin: Negatives should be at least ``margin`` farther from the anchor than positives.
        gather_across_devices: Mine in the batch gathered from all ranks (gradients flow to the
            local embeddings); a no-op when not running distributed.

    Inputs:
        +---------------------+---------------+
        | Batch format        | Labels        |
        +=====================+===============+
        | labeled (sentence)  | class id      |
        +---------------------+---------------+

    Requirements:
        P x K batches: at least 2 classes with at least 2 examples each (``sampling = PK``).

    Statistics:
        ``valid_triplets``, ``mined_triplets`` (equal here), ``active_fraction``, ``hard_fraction``,
        ``semi_hard_fraction``, ``easy_fraction`` (over all valid triplets, relative to ``margin``),
        ``mean_pos_distance``, ``mean_neg_distance``, ``mean_violation``.

    Relations:
        - :class:`~lightning_modules.losses.batch_hard_triplet.BatchHardTripletLoss` keeps only the
          hardest positive and negative of each anchor.

    References:
        - Hermans et al., In Defense of the Triplet Loss for Person Re-Identification, https://arxiv.org/abs/1703.07737
        - https://omoindrot.github.io/triplet-loss
    """

    def __init__(
        self,
        distance_metric: MetricDistanceName = "euclidean",
        margin: float = 5.0,
        gather_across_devices: bool = False,
    ) -> None:
        super().__init__(None, distance_metric, margin, gather_across_devices)

    def loss_and_statistics(self, distances: Tensor, labels: Tensor) -> tuple[Tensor, Callable[[], Statistics]]:
        """The batch-all loss without listing the triplets (see :func:`active_triplet_weights`)."""
        summary = active_triplet_weights(distances, labels, self.margin)
        # Value: the hinge sum as accumulated over the triplets; gradient: d(sum)/d(distances) = weights
        # (the graph term is exactly 0 in value, as it is the same sum twice).
        graph = (summary.weights * distances).sum()
        hinge_sum = graph - graph.detach() + summary.violation_sum
        # sentence-transformers divides by the number of positive losses plus 1e-16.
        loss = hinge_sum / (summary.active + 1e-16)
        return loss, lambda: _statistics(summary, distances.detach().float(), labels)


def _statistics(summary: TripletSummary, d: Tensor, labels: Tensor) -> Statistics:
    """The FaceNet categories and mean distances over all valid triplets, from the summary."""
    valid = count_valid_triplets(labels).float()
    pos, neg = positive_pair_mask(labels), negative_pair_mask(labels)
    return {
        "active_fraction": safe_ratio(summary.active, valid),
        "hard_fraction": safe_ratio(summary.hard, valid),
        "semi_hard_fraction": safe_ratio(summary.active - summary.hard, valid),
        "easy_fraction": safe_ratio(valid - summary.active, valid),
        # Every positive pair (a, p) appears in one triplet per negative of a, and vice versa.
        "mean_pos_distance": safe_ratio((d * pos * neg.sum(1, keepdim=True)).sum(), valid),
        "mean_neg_distance": safe_ratio((d * neg * pos.sum(1, keepdim=True)).sum(), valid),
        "mean_violation": safe_ratio(summary.violation_sum, summary.active),
        "mined_triplets": valid,
    }


@dataclass(frozen=True)
class TripletSummary:
    """Sums over the valid triplets of a batch, computed without listing them.

    Attributes:
        weights: ``(B, B)``: the derivative of the hinge sum w.r.t. the distance matrix: ``weights[a, p]``
            counts the active triplets with positive pair ``(a, p)``, minus ``weights[a, n]`` those with
            negative pair ``(a, n)``.
        violation_sum: Sum of ``d(a, p) - d(a, n) + margin`` over the active triplets.
        active: Number of active triplets (positive violation).
        hard: Number of active triplets with ``d(a, n) < d(a, p)``.
    """

    weights: Tensor
    violation_sum: Tensor
    active: Tensor
    hard: Tensor


@torch.no_grad()
def active_triplet_weights(
    distances: Tensor, labels: Tensor, margin: float, direct_max_positives: int = 16
) -> TripletSummary:
    """Summarise the hinge terms of all valid triplets in ``O(B^2 log B)`` time and ``O(k B^2)`` memory.

    Listing the ``O(B^3)`` triplets (as sentence-transformers does with a ``B x B x B`` tensor) needs
    gigabytes and tens of seconds at ``B = 1024`` with few classes. But for an anchor ``a``, the triplet
    ``(a, p, n)`` is active exactly when ``d(a, n) < t(a, p) = d(a, p) + margin``: with ``a``'s negative
    distances sorted, one binary search per positive pair counts its active negatives, and prefix sums
    give the sum of their distances, hence of the violations (with at most ``direct_max_positives``
    positives per anchor, a direct comparison of each positive pair with every negative is faster).
    Symmetrically, with the thresholds ``t(a, p)`` sorted, one search per negative pair counts its active
    positives.

    Both counts use the same float comparison ``d(a, n) < t(a, p)``, so the weights are consistent with
    the value. sentence-transformers tests ``(d(a, p) - d(a, n)) + margin > 0`` instead: the two can
    disagree, by rounding, only for violations within float precision of zero.

    Args:
        distances: ``(B, B)`` pairwise distances.
        labels: ``(B,)`` class ids.
        margin: Hinge margin (>= 0).
        direct_max_positives: Up to this many positives per anchor, count by direct comparison with
            every negative (``O(k B^2)``, faster for small ``k``) instead of binary search.
    """
    d = distances.detach()
    pos, neg = positive_pair_mask(labels), negative_pair_mask(labels)
    # Per anchor: its thresholds t(a, p) ascending, compacted to the most positives any anchor has
    # (few with many classes), padded with -inf in front.
    k = max(int(pos.sum(1).max()), 1)
    t_desc, p_index = (d + margin).masked_fill(~pos, -math.inf).topk(k, dim=1)
    thresholds, p_index = t_desc.flip(1).contiguous(), p_index.flip(1)
    is_pair = thresholds > -math.inf
    d_pairs = d.gather(1, p_index)
    if k <= direct_max_positives:
        # Few positives per anchor: compare each with every negative directly, O(k B^2).
        active = neg.unsqueeze(1) & (d.unsqueeze(1) < thresholds.unsqueeze(2))  # (anchor, positive, negative)
        active_per_pair = active.sum(2)
        active_neg_sum = (active * d.unsqueeze(1)).sum(2, dtype=torch.float64)
        hard = (neg.unsqueeze(1) & (d.unsqueeze(1) < d_pairs.unsqueeze(2))).sum(2) * is_pair
    else:
        # Many positives: binary searches in each anchor's sorted negative distances, O(B^2 log B); the
        # active negatives' distance sums come from prefix sums (float64: a difference of large sums).
        neg_sorted = d.masked_fill(~neg, math.inf).sort(dim=1).values
        active_per_pair = torch.searchsorted(neg_sorted, thresholds, side="left")
        prefix = F.pad(neg_sorted.double().nan_to_num(posinf=0.0).cumsum(1), (1, 0))
        active_neg_sum = prefix.gather(1, active_per_pair)
        hard = torch.searchsorted(neg_sorted, d_pairs.contiguous(), side="left") * is_pair
    # #{p : t(a, p) > d(a, n)} for every negative pair (a, n).
    active_per_negative = (k - torch.searchsorted(thresholds, d.contiguous(), side="right")) * neg
    violations = active_per_pair * thresholds.double() - active_neg_sum
    weights = (-active_per_negative).to(d.dtype).scatter_add_(1, p_index, active_per_pair.to(d.dtype))
    return TripletSummary(
        weights=weights,
        violation_sum=violations[is_pair].sum().to(d.dtype),
        active=active_per_pair.sum().to(d.dtype),
        hard=hard.sum().to(d.dtype),
    )
