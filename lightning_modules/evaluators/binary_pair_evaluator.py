"""Paraphrase-style pair classification: average precision and best-threshold F1 of cosine scores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
from torch import Tensor

from core.batch_formats import BatchFormat
from lightning_modules.distances import get_distance
from lightning_modules.evaluators.base import Evaluator


class BinaryPairEvaluator(Evaluator):
    """Average precision (×100) of cosine similarity for 0/1-labelled pairs, plus F1 at the best threshold.

    Both are computed over the distinct score thresholds (a pair is predicted positive when its score is
    at least the threshold), so tied scores are ranked together, as in scikit-learn's
    ``average_precision_score``.
    """

    formats: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.BINARY_PAIR})
    primary_metric: ClassVar[str] = "pair_ap"
    higher_is_better: ClassVar[bool] = True

    def __call__(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> dict[str, float]:
        """Score sentence1/sentence2 embeddings against the 0/1 ``labels``."""
        if labels is None:
            raise ValueError("BinaryPairEvaluator needs 0/1 labels")
        gold = labels.cpu().long().flatten()
        if int(gold.sum()) == 0:
            raise ValueError("BinaryPairEvaluator needs at least one positive pair (label 1)")
        cosine = get_distance("cosine_similarity")
        scores = cosine.paired(embeddings[0].float(), embeddings[1].float()).cpu().double()
        order = torch.argsort(scores, descending=True)
        sorted_scores, sorted_gold = scores[order], gold[order].double()
        # The last row of each run of equal scores is where a threshold at that score cuts.
        cut = torch.ones_like(sorted_scores, dtype=torch.bool)
        cut[:-1] = sorted_scores[1:] != sorted_scores[:-1]
        true_pos = torch.cumsum(sorted_gold, 0)[cut]
        predicted_pos = (torch.arange(len(sorted_gold), dtype=torch.float64) + 1)[cut]
        n_pos = float(gold.sum())
        precision = true_pos / predicted_pos
        recall = true_pos / n_pos
        recall_gain = torch.diff(recall, prepend=torch.zeros(1, dtype=torch.float64))
        f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
        best = int(torch.argmax(f1))
        return {
            self.primary_metric: 100.0 * float((recall_gain * precision).sum()),
            "pair_f1": 100.0 * float(f1[best]),
            "pair_f1_threshold": float(sorted_scores[cut][best]),
        }
