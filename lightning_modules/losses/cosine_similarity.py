"""Cosine similarity loss: regress the cosine of each pair onto its gold score."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch.nn.functional as F
from torch import Tensor

from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.losses.base import EmbeddingLoss, LossOutput
from lightning_modules.losses.input_checks import check_columns, check_labels
from lightning_modules.losses.rank_correlation import spearman


class CosineSimilarityLoss(EmbeddingLoss):
    """Cosine similarity loss on scored pairs.

    The mean squared error between the cosine similarity of each pair and its label::

        loss = mean (cos(u, v) - label)^2

    The math is that of sentence-transformers' ``CosineSimilarityLoss`` with its defaults
    (``nn.MSELoss``, identity score transformation). The labels are regressed as given, so they
    must lie on the cosine scale: STS scores (0-5) are normalised to [0, 1] by the DataModule.

    Inputs:
        +------------------------------------+------------------------------+
        | Batch format                       | Labels                       |
        +====================================+==============================+
        | scored_pair (sentence1, sentence2) | float similarity in [0, 1]   |
        +------------------------------------+------------------------------+
        | binary_pair (sentence1, sentence2) | 0/1                          |
        +------------------------------------+------------------------------+

    Statistics:
        ``spearman`` (in-batch cosine vs label), ``mean_score`` (mean cosine).

    Relations:
        - :class:`~lightning_modules.losses.cosent.CoSENTLoss` ranks instead of regressing and is
          usually stronger.

    References:
        - Reimers and Gurevych, Sentence-BERT, https://arxiv.org/abs/1908.10084
    """

    accepts: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.SCORED_PAIR, BatchFormat.BINARY_PAIR})
    sampling: ClassVar[BatchSampling] = BatchSampling.RANDOM

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """MSE of pair cosines against the labels."""
        check_columns(type(self).__name__, embeddings, 2)
        labels = check_labels(type(self).__name__, labels, embeddings[0].shape[0])
        scores = F.cosine_similarity(embeddings[0], embeddings[1])
        loss = F.mse_loss(scores, labels.to(scores.dtype))
        return LossOutput(loss, {"spearman": spearman(scores, labels), "mean_score": scores.detach().mean()})
