"""Triplet accuracy: how often the anchor is closer to its positive than to its negative."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
from torch import Tensor

from core.batch_formats import BatchFormat
from lightning_modules.distances import get_distance
from lightning_modules.evaluators.base import Evaluator


class TripletEvaluator(Evaluator):
    """Fraction (×100) of ``(anchor, positive, negative)`` triplets with cos(a, p) > cos(a, n).

    Ties count as failures, as in sentence-transformers' ``TripletEvaluator``. Also reports the mean
    cosine margin cos(a, p) - cos(a, n). With several negatives per anchor, the positive must beat the
    closest of them.
    """

    formats: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.TRIPLET, BatchFormat.MULTI_NEGATIVE})
    primary_metric: ClassVar[str] = "triplet_accuracy"
    higher_is_better: ClassVar[bool] = True

    def __call__(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> dict[str, float]:
        """Score anchor/positive/negative embeddings; ``labels`` are ignored."""
        if len(embeddings) < 3:
            raise ValueError(
                f"TripletEvaluator needs >= 3 embedding columns (anchor, positive, negative...), got {len(embeddings)}"
            )
        cosine = get_distance("cosine_similarity")
        anchor, positive, *negatives = (e.float() for e in embeddings)
        closest_negative = torch.stack([cosine.paired(anchor, n) for n in negatives]).max(0).values
        margin = cosine.paired(anchor, positive) - closest_negative
        return {
            self.primary_metric: 100.0 * float((margin > 0).double().mean()),
            "triplet_margin": float(margin.mean()),
        }
