"""MSE distillation: regress student embeddings onto precomputed teacher embeddings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch.nn.functional as F
from torch import Tensor

from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.losses.base import EmbeddingLoss, LossOutput
from lightning_modules.losses.input_checks import check_columns


class MSELoss(EmbeddingLoss):
    """Embedding distillation by mean squared error.

    The student embedding of each sentence is regressed onto the teacher embedding given as label::

        loss = mean_{i, d} (student[i, d] - teacher[i, d])^2

    The math is that of sentence-transformers' ``MSELoss`` without a projection (student and
    teacher dimensions must match).

    Inputs:
        +--------------------------+----------------------------------+
        | Batch format             | Labels                           |
        +==========================+==================================+
        | distillation (sentence)  | ``(B, D)`` teacher embeddings    |
        +--------------------------+----------------------------------+

    Statistics:
        ``cosine_to_teacher`` (mean cosine similarity of student and teacher embeddings).

    References:
        - Reimers and Gurevych, Making Monolingual Sentence Embeddings Multilingual using Knowledge
          Distillation, https://arxiv.org/abs/2004.09813
    """

    accepts: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.DISTILLATION})
    sampling: ClassVar[BatchSampling] = BatchSampling.RANDOM

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """MSE of the student embeddings against the teacher embeddings in ``labels``."""
        check_columns(type(self).__name__, embeddings, 1)
        student = embeddings[0]
        if labels is None or labels.shape != student.shape:
            shape = None if labels is None else tuple(labels.shape)
            raise ValueError(
                f"MSELoss expects teacher embeddings of shape {tuple(student.shape)} as labels, got {shape}."
            )
        teacher = labels.detach().to(student.dtype)
        loss = F.mse_loss(student, teacher)
        return LossOutput(loss, {"cosine_to_teacher": F.cosine_similarity(student.detach(), teacher).mean()})
