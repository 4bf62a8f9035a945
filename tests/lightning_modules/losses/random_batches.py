"""Random embeddings and labels for every batch format, shared by the loss tests."""

from __future__ import annotations

import torch
from torch import Tensor

from core.batch_formats import BatchFormat

BATCH_SIZE = 12
DIM = 8
NUM_CLASSES = 4  # LABELED batches are P x K: 4 classes x 3 examples


def random_batch(
    batch_format: BatchFormat, seed: int = 0, dtype: torch.dtype = torch.float64
) -> tuple[list[Tensor], Tensor | None]:
    """Embeddings (one ``(B, D)`` tensor per column) and labels of the kind ``batch_format`` declares."""
    g = torch.Generator().manual_seed(seed)
    n_columns = len(batch_format.columns)
    embeddings = [torch.randn(BATCH_SIZE, DIM, generator=g, dtype=dtype) for _ in range(n_columns)]
    labels: dict[BatchFormat, Tensor | None] = {
        BatchFormat.LABELED: torch.arange(BATCH_SIZE)[torch.randperm(BATCH_SIZE, generator=g)] % NUM_CLASSES,
        # Few distinct values, so ties are exercised.
        BatchFormat.SCORED_PAIR: torch.randint(0, 6, (BATCH_SIZE,), generator=g).to(dtype) / 5,
        BatchFormat.BINARY_PAIR: torch.randint(0, 2, (BATCH_SIZE,), generator=g),
        BatchFormat.PAIR: None,
        BatchFormat.TRIPLET: None,
        BatchFormat.MARGIN_TRIPLET: torch.randn(BATCH_SIZE, generator=g, dtype=dtype),
        BatchFormat.DISTILLATION: torch.randn(BATCH_SIZE, DIM, generator=g, dtype=dtype),
    }
    return embeddings, labels[batch_format]


def _with_cosine(first: Tensor, cosines: Tensor, g: torch.Generator) -> Tensor:
    """Vectors whose cosine similarity with the rows of ``first`` is exactly ``cosines``."""
    u = torch.nn.functional.normalize(first, dim=1)
    w = torch.randn(first.shape, generator=g, dtype=first.dtype)
    w = torch.nn.functional.normalize(w - (w * u).sum(1, keepdim=True) * u, dim=1)
    return cosines.unsqueeze(1) * u + (1 - cosines.pow(2)).sqrt().unsqueeze(1) * w


def consistent_batch(batch_format: BatchFormat, seed: int = 0) -> tuple[list[Tensor], Tensor | None]:
    """A batch whose embeddings agree with its labels (what a well-trained encoder would produce)."""
    g = torch.Generator().manual_seed(seed)
    embeddings, labels = random_batch(batch_format, seed)
    first = embeddings[0]
    noise = 0.1 * torch.randn(first.shape, generator=g, dtype=first.dtype)
    if batch_format is BatchFormat.LABELED:
        centers = 3 * torch.randn(NUM_CLASSES, DIM, generator=g, dtype=first.dtype)
        return [centers[labels] + noise], labels
    if batch_format in (BatchFormat.SCORED_PAIR, BatchFormat.BINARY_PAIR):
        return [first, _with_cosine(first, labels.to(first.dtype), g)], labels
    if batch_format is BatchFormat.TRIPLET:
        return [first, first + noise, 3 * embeddings[2]], None
    if batch_format is BatchFormat.PAIR:
        return [first, first + noise], None
    if batch_format is BatchFormat.MARGIN_TRIPLET:
        query, passage1, passage2 = embeddings
        return embeddings, (query * passage1).sum(1) - (query * passage2).sum(1)
    if batch_format is BatchFormat.DISTILLATION:
        return [first], first + noise
    raise NotImplementedError(batch_format)


def corrupted(batch_format: BatchFormat, embeddings: list[Tensor], labels: Tensor | None) -> tuple[list, Tensor | None]:
    """The same batch with its supervision misaligned (rolled by one row, so nothing stays in place)."""
    if batch_format is BatchFormat.TRIPLET:
        return [embeddings[0], embeddings[2], embeddings[1]], labels
    if batch_format is BatchFormat.PAIR:
        return [embeddings[0], embeddings[1].roll(1, dims=0)], labels
    return embeddings, labels.roll(1, dims=0)
