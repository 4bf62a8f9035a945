"""Paraphrase-style pair classification: average precision and best-threshold F1 of cosine scores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve
from torch import Tensor

from core.batch_formats import BatchFormat
from lightning_modules.distances import get_distance
from lightning_modules.evaluators.base import Evaluator


class BinaryPairEvaluator(Evaluator):
    """Average precision (×100) of cosine similarity for 0/1-labelled pairs, plus F1 at the best threshold.

    Both come from scikit-learn (``average_precision_score``, ``precision_recall_curve``), which rank tied
    scores together. ``pair_f1_threshold`` is a score of the data: a pair is predicted positive when its
    cosine is at least the threshold.
    """

    formats: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.BINARY_PAIR})
    primary_metric: ClassVar[str] = "pair_ap"
    higher_is_better: ClassVar[bool] = True

    def __call__(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> dict[str, float]:
        """Score sentence1/sentence2 embeddings against the 0/1 ``labels``."""
        if labels is None:
            raise ValueError("BinaryPairEvaluator needs 0/1 labels")
        gold = labels.detach().cpu().long().flatten().numpy()
        if int(gold.sum()) == 0:
            raise ValueError("BinaryPairEvaluator needs at least one positive pair (label 1)")
        cosine = get_distance("cosine_similarity")
        scores = cosine.paired(embeddings[0].float(), embeddings[1].float()).detach().cpu().double().numpy()
        precision, recall, thresholds = precision_recall_curve(gold, scores)
        # The curve's last point (precision 1, recall 0) has no threshold.
        precision, recall = precision[:-1], recall[:-1]
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
        # Thresholds ascend: among equal F1s take the highest threshold (the fewest predicted positives).
        best = len(f1) - 1 - int(np.argmax(f1[::-1]))
        return {
            self.primary_metric: 100.0 * float(average_precision_score(gold, scores)),
            "pair_f1": 100.0 * float(f1[best]),
            "pair_f1_threshold": float(thresholds[best]),
        }
