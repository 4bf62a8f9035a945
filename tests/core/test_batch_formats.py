"""Batch formats: columns, optional and repeating columns, descriptions."""

import numpy as np
import pytest

from core.batch_formats import BatchFormat, LabelKind
from datamodules.text_dataset import TextDataset


@pytest.mark.parametrize(
    ("fmt", "min_columns", "description"),
    [
        (BatchFormat.TRIPLET, 3, "triplet (anchor, positive, negative)"),
        (BatchFormat.MULTI_NEGATIVE, 3, "multi_negative (anchor, positive, negative ...)"),
        (BatchFormat.GUIDED, 2, "guided (anchor, positive[, negative ...]; labels: column_embeddings)"),
        (BatchFormat.TEACHER_SCORED, 3, "teacher_scored (query, positive, negative ...; labels: teacher_scores)"),
    ],
)
def test_columns_and_descriptions(fmt, min_columns, description):
    assert fmt.min_columns == min_columns
    assert fmt.describe() == description


@pytest.mark.parametrize(("n_columns", "ok"), [(1, False), (2, True), (3, True), (5, True)])
def test_guided_rows_are_pairs_or_rows_with_any_number_of_negatives(n_columns, ok):
    columns = [["x"] for _ in range(n_columns)]
    labels = np.zeros((1, n_columns, 4), dtype=np.float32)
    if ok:
        assert len(TextDataset(BatchFormat.GUIDED, columns, labels, name="g")) == 1
    else:
        with pytest.raises(ValueError, match="g: at least 2 text columns expected, got 1"):
            TextDataset(BatchFormat.GUIDED, columns, labels, name="g")


def test_label_kinds():
    assert BatchFormat.GUIDED.label_kind is LabelKind.COLUMN_EMBEDDINGS
    assert BatchFormat.TEACHER_SCORED.label_kind is LabelKind.TEACHER_SCORES
