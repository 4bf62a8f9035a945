"""Pair index tuples (pytorch-metric-learning's ``indices_tuple``) built from the columns of a batch."""

from __future__ import annotations

import torch
from torch import Tensor

PairIndices = tuple[Tensor, Tensor, Tensor, Tensor]


def column_pairs(
    num_columns: int, batch_size: int, in_batch_negatives: bool = True, device: torch.device | str = "cpu"
) -> PairIndices:
    """Positive and negative pairs of a ``(anchor, positive, negative_1, ...)`` batch, as PML index tuples.

    The columns are stacked into one ``(num_columns * batch_size, D)`` embedding matrix, column after
    column: row ``i`` of column ``c`` is row ``c * batch_size + i``. Anchors are always rows of the first
    column; every other row is a document.

    - Positive pairs ``(a1, p)``: each anchor ``i`` with its own positive ``batch_size + i``.
    - Negative pairs ``(a2, n)``: with ``in_batch_negatives``, each anchor with every document except its
      own positive (the other rows' positives and every negative column), the candidates of
      MultipleNegativesRankingLoss; without, each anchor with its own negatives only
      (``c * batch_size + i`` for ``c >= 2``).

    PML's pair losses take these as they are; its triplet losses turn them into every
    ``(anchor, positive, negative)`` that shares the anchor.

    Args:
        num_columns: Text columns of the batch (2 for pairs, 3 for triplets, more with several negatives).
        batch_size: Rows per column.
        in_batch_negatives: Also pair each anchor with the documents of the other rows.
        device: Device of the index tensors.

    Returns:
        ``(a1, p, a2, n)``, int64 index tensors.

    Raises:
        ValueError: Fewer than two columns, or no negative at all (pairs without in-batch negatives).
    """
    if num_columns < 2:
        raise ValueError(f"index tuples need an anchor and a positive column, got {num_columns} column(s)")
    if num_columns == 2 and not in_batch_negatives:
        raise ValueError("(anchor, positive) pairs have no negatives of their own: they need in_batch_negatives")
    rows = torch.arange(batch_size, device=device)
    if in_batch_negatives:
        documents = torch.arange(batch_size, num_columns * batch_size, device=device)
        a2 = rows.repeat_interleave(documents.numel())
        n = documents.repeat(batch_size)
        keep = n != a2 + batch_size
        a2, n = a2[keep], n[keep]
    else:
        negative_columns = torch.arange(2, num_columns, device=device)
        a2 = rows.repeat(num_columns - 2)
        n = negative_columns.repeat_interleave(batch_size) * batch_size + a2
    return rows, rows + batch_size, a2, n
