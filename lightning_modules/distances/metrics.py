"""The concrete distances and similarities."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from lightning_modules.distances.base import Distance


class EuclideanDistance(Distance):
    """L2 distance."""

    name = "euclidean"

    def pairwise(self, x: Tensor, y: Tensor) -> Tensor:
        """All-pairs L2 distance, with a gradient that stays finite at zero distance."""
        sq = SquaredEuclideanDistance().pairwise(x, y)
        # sqrt has an infinite gradient at 0 (the diagonal): add eps only where the value is zero,
        # the same guard sentence-transformers' batch triplet losses use.
        zero = (sq == 0).to(sq.dtype)
        return torch.sqrt(sq + zero * 1e-16) * (1.0 - zero)

    def paired(self, x: Tensor, y: Tensor) -> Tensor:
        """Row-wise L2 distance (``F.pairwise_distance``, eps 1e-6 as in PyTorch/ST)."""
        return F.pairwise_distance(x, y, p=2)


class SquaredEuclideanDistance(Distance):
    """Squared L2 distance."""

    name = "squared_euclidean"

    def pairwise(self, x: Tensor, y: Tensor) -> Tensor:
        """``||x||^2 - 2 x.y + ||y||^2``, clamped at 0 against rounding."""
        dot = x @ y.T
        x_norms = x.pow(2).sum(1, keepdim=True)
        y_norms = x_norms.T if y is x else y.pow(2).sum(1).unsqueeze(0)  # a batch against itself: once
        return (x_norms - 2.0 * dot + y_norms).clamp(min=0.0)

    def paired(self, x: Tensor, y: Tensor) -> Tensor:
        """Row-wise squared L2 distance."""
        return (x - y).pow(2).sum(-1)


class ManhattanDistance(Distance):
    """L1 distance."""

    name = "manhattan"

    def pairwise(self, x: Tensor, y: Tensor) -> Tensor:
        """All-pairs L1 distance."""
        return torch.cdist(x, y, p=1)

    def paired(self, x: Tensor, y: Tensor) -> Tensor:
        """Row-wise L1 distance (``F.pairwise_distance`` with p=1, as ST)."""
        return F.pairwise_distance(x, y, p=1)


class CosineDistance(Distance):
    """``1 - cosine similarity``."""

    name = "cosine"

    def pairwise(self, x: Tensor, y: Tensor) -> Tensor:
        """All-pairs cosine distance."""
        return 1.0 - CosineSimilarity().pairwise(x, y)

    def paired(self, x: Tensor, y: Tensor) -> Tensor:
        """Row-wise cosine distance."""
        return 1.0 - F.cosine_similarity(x, y)


class CosineSimilarity(Distance):
    """Cosine similarity (larger is closer)."""

    name = "cosine_similarity"
    is_similarity = True

    def pairwise(self, x: Tensor, y: Tensor) -> Tensor:
        """All-pairs cosine similarity (normalise, then matmul — as ``sentence_transformers.util.cos_sim``)."""
        return F.normalize(x, p=2, dim=1) @ F.normalize(y, p=2, dim=1).T

    def paired(self, x: Tensor, y: Tensor) -> Tensor:
        """Row-wise cosine similarity (as ``pairwise_cos_sim``)."""
        return (F.normalize(x, p=2, dim=1) * F.normalize(y, p=2, dim=1)).sum(-1)


class DotSimilarity(Distance):
    """Dot product (larger is closer)."""

    name = "dot"
    is_similarity = True

    def pairwise(self, x: Tensor, y: Tensor) -> Tensor:
        """All-pairs dot product."""
        return x @ y.T

    def paired(self, x: Tensor, y: Tensor) -> Tensor:
        """Row-wise dot product."""
        return (x * y).sum(-1)
