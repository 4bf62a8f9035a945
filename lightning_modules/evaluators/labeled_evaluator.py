"""Class-labelled sentences: leave-one-out kNN accuracy and k-means clustering V-measure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans
from sklearn.metrics import v_measure_score
from torch import Tensor

from core.batch_formats import BatchFormat
from lightning_modules.evaluators.base import Evaluator


class LabeledEvaluator(Evaluator):
    """Leave-one-out kNN accuracy (×100, cosine) and k-means V-measure (×100) of labelled embeddings.

    kNN: each embedding is classified by a majority vote of its ``k`` most cosine-similar other
    embeddings (ties go to the smallest class id). Clustering: k-means with as many clusters as classes
    on the L2-normalised embeddings, seeded, scored by V-measure against the labels.

    Args:
        k: Number of neighbours (1 or 5 are usual).
        seed: Random state of k-means.
    """

    formats: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.LABELED})
    primary_metric: ClassVar[str] = "knn_accuracy"
    higher_is_better: ClassVar[bool] = True

    def __init__(self, k: int = 5, seed: int = 0) -> None:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.k = k
        self.seed = seed

    def __call__(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> dict[str, float]:
        """Score one column of sentence embeddings against their class ids in ``labels``."""
        if labels is None:
            raise ValueError("LabeledEvaluator needs class ids as labels")
        gold = labels.cpu().long().flatten()
        if len(gold) <= self.k:
            raise ValueError(f"LabeledEvaluator with k={self.k} needs more than {self.k} examples, got {len(gold)}")
        normed = F.normalize(embeddings[0].float().cpu(), dim=-1)
        return {
            self.primary_metric: 100.0 * self._knn_accuracy(normed, gold),
            "v_measure": 100.0 * self._v_measure(normed, gold),
        }

    def _knn_accuracy(self, normed: Tensor, gold: Tensor) -> float:
        scores = normed @ normed.T
        scores.fill_diagonal_(float("-inf"))  # leave one out
        neighbours = scores.topk(self.k, dim=1).indices
        n_classes = int(gold.max()) + 1
        votes = F.one_hot(gold[neighbours], n_classes).sum(dim=1)
        # argmax returns the first maximum: ties go to the smallest class id.
        predicted = votes.argmax(dim=1)
        return float((predicted == gold).double().mean())

    def _v_measure(self, normed: Tensor, gold: Tensor) -> float:
        n_clusters = int(torch.unique(gold).numel())
        assignment = KMeans(n_clusters=n_clusters, n_init=10, random_state=self.seed).fit_predict(normed.numpy())
        return float(v_measure_score(gold.numpy(), assignment))
