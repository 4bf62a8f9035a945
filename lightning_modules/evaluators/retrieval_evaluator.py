"""In-batch-style retrieval: find each anchor's positive among all positives."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from torch import Tensor

from core.batch_formats import BatchFormat
from lightning_modules.distances import get_distance
from lightning_modules.evaluators.base import Evaluator


class RetrievalEvaluator(Evaluator):
    """MRR@10 (×100) of anchor → positive retrieval over the whole validation set's positives (cosine).

    The rank of anchor ``i``'s positive is 1 + the number of positives scored strictly higher; a rank
    beyond ``cutoff`` contributes 0. Also reports recall@1 and recall@``cutoff``.

    Args:
        cutoff: Rank cut-off for MRR and recall.
    """

    formats: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.PAIR})
    primary_metric: ClassVar[str] = "mrr_at_10"
    higher_is_better: ClassVar[bool] = True

    def __init__(self, cutoff: int = 10) -> None:
        if cutoff < 1:
            raise ValueError(f"cutoff must be >= 1, got {cutoff}")
        self.cutoff = cutoff

    def __call__(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> dict[str, float]:
        """Score anchor/positive embeddings; ``labels`` are ignored."""
        cosine = get_distance("cosine_similarity")
        scores = cosine.pairwise(embeddings[0].float(), embeddings[1].float())
        target = scores.diagonal().unsqueeze(1)
        ranks = 1 + (scores > target).sum(dim=1)
        reciprocal = (1.0 / ranks.double()) * (ranks <= self.cutoff)
        return {
            self.primary_metric: 100.0 * float(reciprocal.mean()),
            "recall_at_1": 100.0 * float((ranks == 1).double().mean()),
            f"recall_at_{self.cutoff}": 100.0 * float((ranks <= self.cutoff).double().mean()),
        }
