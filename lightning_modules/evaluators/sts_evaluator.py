"""Spearman correlation between embedding similarity and gold scores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from scipy.stats import pearsonr, spearmanr
from torch import Tensor

from core.batch_formats import BatchFormat
from lightning_modules.distances import get_distance
from lightning_modules.evaluators.base import Evaluator


class STSEvaluator(Evaluator):
    """STS dev evaluation: Spearman (and Pearson) of cosine, dot, euclidean and manhattan scores.

    The primary metric, ``sts_spearman``, is the cosine Spearman ×100 (MTEB's STS main score).
    """

    formats: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.SCORED_PAIR})
    primary_metric: ClassVar[str] = "sts_spearman"
    higher_is_better: ClassVar[bool] = True

    def __call__(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> dict[str, float]:
        """Score sentence1/sentence2 embeddings against the gold scores in ``labels``."""
        if labels is None:
            raise ValueError("STSEvaluator needs gold scores as labels")
        gold = labels.float().cpu().numpy()
        metrics: dict[str, float] = {}
        for name in ("cosine_similarity", "dot", "euclidean", "manhattan"):
            distance = get_distance(name)
            scores = distance.closeness(distance.paired(embeddings[0].float(), embeddings[1].float())).numpy()
            short = {"cosine_similarity": "cosine"}.get(name, name)
            metrics[f"sts_spearman_{short}"] = 100.0 * float(spearmanr(gold, scores).statistic)
            metrics[f"sts_pearson_{short}"] = 100.0 * float(pearsonr(gold, scores).statistic)
        metrics[self.primary_metric] = metrics["sts_spearman_cosine"]
        return metrics
