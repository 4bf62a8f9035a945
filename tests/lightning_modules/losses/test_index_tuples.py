"""column_pairs: the pairs of a stacked (anchor, positive, negative...) batch, checked against explicit loops."""

from __future__ import annotations

import pytest
import torch

from lightning_modules.losses.index_tuples import column_pairs


def loop_pairs(num_columns: int, batch_size: int, in_batch_negatives: bool) -> tuple[set, set]:
    """Positive and negative (anchor row, document row) pairs, written out row by row."""
    positives = {(i, batch_size + i) for i in range(batch_size)}
    negatives = set()
    for i in range(batch_size):
        for column in range(1, num_columns):
            for j in range(batch_size):
                document = column * batch_size + j
                if document == batch_size + i:
                    continue  # the anchor's own positive
                if in_batch_negatives or (column >= 2 and j == i):
                    negatives.add((i, document))
    return positives, negatives


@pytest.mark.parametrize(
    ("num_columns", "in_batch_negatives"), [(2, True), (3, True), (5, True), (3, False), (5, False)]
)
@pytest.mark.parametrize("batch_size", [1, 4])
def test_pairs_equal_the_explicit_loops(num_columns: int, batch_size: int, in_batch_negatives: bool) -> None:
    a1, p, a2, n = column_pairs(num_columns, batch_size, in_batch_negatives)
    positives, negatives = loop_pairs(num_columns, batch_size, in_batch_negatives)
    assert all(t.dtype == torch.int64 for t in (a1, p, a2, n))
    # Each pair once: as many index pairs as distinct pairs.
    assert len(a1) == len(positives) and set(zip(a1.tolist(), p.tolist(), strict=True)) == positives
    assert len(a2) == len(negatives) and set(zip(a2.tolist(), n.tolist(), strict=True)) == negatives


def test_refuses_what_has_no_pairs() -> None:
    with pytest.raises(ValueError, match="need an anchor and a positive column"):
        column_pairs(1, 4)
    with pytest.raises(ValueError, match="no negatives of their own"):
        column_pairs(2, 4, in_batch_negatives=False)
