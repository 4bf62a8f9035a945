"""CoSENT: rank the pairs of a batch by similarity, consistently with their labels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
from torch import Tensor

from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.distances import DistanceName, get_distance
from lightning_modules.losses.base import EmbeddingLoss, LossOutput
from lightning_modules.losses.input_checks import check_columns, check_labels
from lightning_modules.losses.rank_correlation import spearman


class CoSENTLoss(EmbeddingLoss):
    """CoSENT (Consistent SENTence embedding) loss.

    For every two pairs ``(i, j)`` and ``(k, l)`` of the batch whose labels say that ``(i, j)`` is
    more similar, the score of ``(k, l)`` is pushed below the score of ``(i, j)``::

        loss = log(1 + sum_{label(i,j) > label(k,l)} exp(scale * (s(k,l) - s(i,j))))

    where ``s`` is the similarity of the two embeddings of a pair. Only the order of the labels
    matters, so scores on any scale (or binary labels) can be used. The math is that of
    sentence-transformers' ``CoSENTLoss``.

    Args:
        scale: Inverse temperature multiplying the similarities (> 0).
        similarity_fct: Name of the pair similarity: ``cosine_similarity`` (default) or ``dot``; a
            distance name (``euclidean``, ``manhattan``, ...) is used negated, as sentence-transformers'
            ``pairwise_euclidean_sim`` does.

    Inputs:
        +---------------------------------+--------------------------------------------+
        | Batch format                    | Labels                                     |
        +=================================+============================================+
        | scored_pair (sentence1, sentence2) | float similarity score                  |
        +---------------------------------+--------------------------------------------+
        | binary_pair (sentence1, sentence2) | 0/1                                     |
        +---------------------------------+--------------------------------------------+

    Statistics:
        ``spearman`` (in-batch Spearman correlation of similarities and labels), ``mean_score``.

    Relations:
        - :class:`~lightning_modules.losses.angle.AnglELoss` is CoSENT with the angle similarity.
        - :class:`~lightning_modules.losses.cosine_similarity.CosineSimilarityLoss` regresses the
          scores instead of ranking them and usually gives a weaker signal.

    References:
        - CoSENT: https://penghao-bdsc.github.io/papers/CoSENT_TASLP2024.pdf
    """

    accepts: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.SCORED_PAIR, BatchFormat.BINARY_PAIR})
    sampling: ClassVar[BatchSampling] = BatchSampling.RANDOM

    def __init__(self, scale: float = 20.0, similarity_fct: DistanceName = "cosine_similarity") -> None:
        super().__init__()
        if scale <= 0:
            raise ValueError(f"scale must be > 0, got {scale}.")
        self.scale = scale
        self.similarity_fct = similarity_fct
        self.distance = get_distance(similarity_fct)

    def pair_scores(self, first: Tensor, second: Tensor) -> Tensor:
        """Similarity of each row pair (larger means closer)."""
        return self.distance.closeness(self.distance.paired(first, second))

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """Rank the pairs; see the class docstring."""
        check_columns(type(self).__name__, embeddings, 2)
        labels = check_labels(type(self).__name__, labels, embeddings[0].shape[0])
        similarities = self.pair_scores(embeddings[0], embeddings[1])
        # Half-precision scores would round nearby values into ties and overflow in exp.
        half = similarities.dtype in (torch.float16, torch.bfloat16)
        scores = (similarities.float() if half else similarities) * self.scale
        # differences[i, j] = s_j - s_i, kept where pair i has the strictly higher label.
        differences = scores.unsqueeze(0) - scores.unsqueeze(1)
        higher = labels.unsqueeze(1) > labels.unsqueeze(0)
        differences = differences.masked_fill(~higher, -torch.inf).flatten()
        loss = torch.logsumexp(torch.cat((differences.new_zeros(1), differences)), dim=0)
        stats = {"spearman": spearman(similarities, labels), "mean_score": similarities.detach().mean()}
        return LossOutput(loss, stats)

    def extra_repr(self) -> str:
        """Constructor arguments shown by ``repr``."""
        return f"scale={self.scale}, similarity_fct={self.similarity_fct!r}"
