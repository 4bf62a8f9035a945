"""Softmax loss: classify sentence pairs with a linear layer on their combined embeddings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.losses.base import EmbeddingLoss, LossOutput
from lightning_modules.losses.input_checks import check_columns, check_labels


class SoftmaxLoss(EmbeddingLoss):
    """Softmax classification of sentence pairs (SBERT's NLI objective).

    The pair embeddings ``u, v`` are concatenated as ``(u, v, |u - v|, u * v)`` (each part optional),
    mapped to ``num_labels`` logits by a linear classifier owned by the loss (trained with the
    encoder), and scored by cross-entropy::

        loss = cross_entropy(W [u; v; |u - v|; u * v] + b, label)

    The math is that of sentence-transformers' ``SoftmaxLoss``.

    Args:
        embedding_dim: Dimension of the sentence embeddings.
        num_labels: Number of classes (>= 2).
        concatenation_sent_rep: Include ``u`` and ``v``.
        concatenation_sent_difference: Include ``|u - v|``.
        concatenation_sent_multiplication: Include ``u * v``.

    Inputs:
        +------------------------------------+-----------------------------------+
        | Batch format                       | Labels                            |
        +====================================+===================================+
        | binary_pair (sentence1, sentence2) | class id in ``[0, num_labels)``   |
        +------------------------------------+-----------------------------------+

    Statistics:
        ``accuracy`` of the classifier on the batch.

    References:
        - Reimers and Gurevych, Sentence-BERT, https://arxiv.org/abs/1908.10084
    """

    accepts: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.BINARY_PAIR})
    sampling: ClassVar[BatchSampling] = BatchSampling.RANDOM

    def __init__(
        self,
        embedding_dim: int,
        num_labels: int,
        concatenation_sent_rep: bool = True,
        concatenation_sent_difference: bool = True,
        concatenation_sent_multiplication: bool = False,
    ) -> None:
        super().__init__()
        if embedding_dim < 1:
            raise ValueError(f"embedding_dim must be >= 1, got {embedding_dim}.")
        if num_labels < 2:
            raise ValueError(f"num_labels must be >= 2, got {num_labels}.")
        parts = 2 * concatenation_sent_rep + concatenation_sent_difference + concatenation_sent_multiplication
        if parts == 0:
            raise ValueError(
                "At least one of concatenation_sent_rep, concatenation_sent_difference or "
                "concatenation_sent_multiplication must be True."
            )
        self.num_labels = num_labels
        self.concatenation_sent_rep = concatenation_sent_rep
        self.concatenation_sent_difference = concatenation_sent_difference
        self.concatenation_sent_multiplication = concatenation_sent_multiplication
        self.classifier = nn.Linear(parts * embedding_dim, num_labels)

    def features(self, first: Tensor, second: Tensor) -> Tensor:
        """The classifier input: the selected combinations of the two embeddings, concatenated."""
        vectors = [first, second] if self.concatenation_sent_rep else []
        if self.concatenation_sent_difference:
            vectors.append(torch.abs(first - second))
        if self.concatenation_sent_multiplication:
            vectors.append(first * second)
        return torch.cat(vectors, dim=1).to(self.classifier.weight.dtype)

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """Cross-entropy of the pair classifier."""
        check_columns(type(self).__name__, embeddings, 2)
        labels = check_labels(type(self).__name__, labels, embeddings[0].shape[0]).long()
        if labels.numel() and (labels.min() < 0 or labels.max() >= self.num_labels):
            raise ValueError(f"SoftmaxLoss labels must lie in [0, {self.num_labels}), got {labels.tolist()}.")
        logits = self.classifier(self.features(embeddings[0], embeddings[1]))
        loss = F.cross_entropy(logits, labels)
        accuracy = (logits.detach().argmax(1) == labels).float().mean()
        return LossOutput(loss, {"accuracy": accuracy})
