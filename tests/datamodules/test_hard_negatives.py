import numpy as np
import pytest
import torch

from datamodules.hard_negatives import hardest_negatives

LABELS = np.array([0, 0, 1, 1, 1, 2, 2, 3, 0, 2, 1])


@pytest.mark.parametrize("chunk_size", [1, 4, 1000])
def test_hardest_negative_is_the_most_similar_other_label_row(chunk_size):
    embeddings = np.random.default_rng(0).standard_normal((len(LABELS), 5)).astype(np.float32)
    x = torch.from_numpy(embeddings)
    # Reference: the full cosine-similarity matrix at once, same-label entries excluded.
    similarity = torch.nn.functional.cosine_similarity(x[:, None], x[None, :], dim=-1)
    same = torch.from_numpy(LABELS[:, None] == LABELS[None, :])
    expected = similarity.masked_fill(same, float("-inf")).argmax(dim=1).numpy()
    out = hardest_negatives(embeddings, LABELS, chunk_size=chunk_size)
    np.testing.assert_array_equal(out, expected)
    assert (LABELS[out] != LABELS).all()


def test_similarity_is_cosine_not_dot_product():
    # Row 2 has the larger dot product with row 0, row 1 the same direction.
    embeddings = np.array([[1.0, 0.0], [0.5, 0.0], [3.0, 3.0]], dtype=np.float32)
    assert hardest_negatives(embeddings, np.array([0, 1, 2]))[0] == 1


@pytest.mark.parametrize(
    ("embeddings", "labels", "chunk_size", "match"),
    [
        (np.zeros((3, 2)), np.array([0, 1]), 8, "expected \\(N, D\\) and \\(N,\\)"),
        (np.zeros((2, 2)), np.array([0, 1]), 0, "chunk_size=0"),
        (np.zeros((2, 2)), np.array([1, 1]), 8, "at least 2 distinct labels"),
    ],
)
def test_bad_inputs_are_refused(embeddings, labels, chunk_size, match):
    with pytest.raises(ValueError, match=match):
        hardest_negatives(embeddings, labels, chunk_size=chunk_size)
