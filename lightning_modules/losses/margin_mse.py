"""MarginMSE: regress the student's score margin between two passages onto the teacher's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch.nn.functional as F
from torch import Tensor

from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.distances import DistanceName, get_distance
from lightning_modules.losses.base import EmbeddingLoss, LossOutput
from lightning_modules.losses.input_checks import check_columns, check_labels
from lightning_modules.losses.rank_correlation import spearman


class MarginMSELoss(EmbeddingLoss):
    """Margin-MSE distillation on (query, passage1, passage2) with a teacher margin label.

    The student margin ``s(q, p1) - s(q, p2)`` is regressed onto the teacher's margin::

        loss = mean (s(q, p1) - s(q, p2) - label)^2

    The math is that of sentence-transformers' ``MarginMSELoss`` with one negative per query.

    Args:
        similarity_fct: Name of the pair similarity: ``dot`` (default, as sentence-transformers) or
            ``cosine_similarity``; a distance name is used negated.

    Inputs:
        +-----------------------------------------------+---------------------------------+
        | Batch format                                  | Labels                          |
        +===============================================+=================================+
        | margin_triplet (query, passage1, passage2)    | teacher score(p1) - score(p2)   |
        +-----------------------------------------------+---------------------------------+

    Statistics:
        ``mean_margin`` (student), ``mean_label_margin`` (teacher), ``margin_spearman``.

    References:
        - Hofstätter et al., Improving Efficient Neural Ranking Models with Cross-Architecture
          Knowledge Distillation, https://arxiv.org/abs/2010.02666
    """

    accepts: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.MARGIN_TRIPLET})
    sampling: ClassVar[BatchSampling] = BatchSampling.RANDOM

    def __init__(self, similarity_fct: DistanceName = "dot") -> None:
        super().__init__()
        self.distance = get_distance(similarity_fct)
        self.similarity_fct = similarity_fct

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """MSE between student and teacher margins."""
        check_columns(type(self).__name__, embeddings, 3)
        query, first, second = embeddings
        labels = check_labels(type(self).__name__, labels, query.shape[0]).detach()
        score = self.distance.closeness
        margins = score(self.distance.paired(query, first)) - score(self.distance.paired(query, second))
        loss = F.mse_loss(margins, labels.to(margins.dtype))
        stats = {
            "mean_margin": margins.detach().mean(),
            "mean_label_margin": labels.float().mean(),
            "margin_spearman": spearman(margins, labels),
        }
        return LossOutput(loss, stats)

    def extra_repr(self) -> str:
        """Constructor arguments shown by ``repr``."""
        return f"similarity_fct={self.similarity_fct!r}"
