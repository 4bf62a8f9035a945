"""In-training evaluators: pure functions of validation-set embeddings to metrics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from torch import Tensor

from core.batch_formats import BatchFormat


class Evaluator:
    """Scores a whole validation set from its embeddings.

    Subclasses declare, once, the formats they evaluate, their primary metric and its direction;
    checkpointing, early stopping, grids and leaderboards read that declaration.
    """

    formats: ClassVar[frozenset[BatchFormat]] = frozenset()
    primary_metric: ClassVar[str] = ""
    higher_is_better: ClassVar[bool] = True

    def __call__(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> dict[str, float]:
        """Compute metrics.

        Args:
            embeddings: One ``(N, D)`` float32 tensor per text column, for the whole validation set.
            labels: The concatenated labels, or ``None``.

        Returns:
            Metric name → value; always contains ``primary_metric``.
        """
        raise NotImplementedError
