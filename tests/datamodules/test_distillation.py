import numpy as np
import pytest

from core.batch_formats import BatchFormat
from datamodules.distillation import get_distillation
from datamodules.text_dataset import TextDataset


class FakeTeacher:
    """A teacher whose embedding of a text is fixed by the text, to check how rows are labelled."""

    teacher = "fake"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts):
        self.calls.append(list(texts))
        return np.stack([self.vector(text) for text in texts])

    @staticmethod
    def vector(text: str) -> np.ndarray:
        return np.random.default_rng(sum(map(ord, text))).standard_normal(4).astype(np.float32)


TRIPLETS = TextDataset(BatchFormat.TRIPLET, [["q1", "q2"], ["p1", "p2"], ["n1", "q1"]], None, name="triplets")
SINGLES = TextDataset(BatchFormat.SINGLE, [["a", "b", "c"]], None, name="singles")


def test_embeddings_label_each_sentence_with_its_teacher_embedding():
    out = get_distillation("embeddings").apply(SINGLES, FakeTeacher())
    assert out.format is BatchFormat.DISTILLATION and out.columns == SINGLES.columns
    np.testing.assert_array_equal(out.labels, np.stack([FakeTeacher.vector(t) for t in "abc"]))
    assert out[1].label.shape == (4,)


def test_margins_are_teacher_dot_product_differences_with_each_text_embedded_once():
    teacher = FakeTeacher()
    out = get_distillation("margins").apply(TRIPLETS, teacher)
    assert out.format is BatchFormat.MARGIN_TRIPLET and out.columns == TRIPLETS.columns
    v = FakeTeacher.vector
    expected = [float(v(q) @ v(p) - v(q) @ v(n)) for q, p, n in TRIPLETS.row_texts()]
    np.testing.assert_allclose(out.labels, expected, rtol=1e-5)
    assert len(teacher.calls) == 1 and sorted(teacher.calls[0]) == ["n1", "p1", "p2", "q1", "q2"]


PAIRS = TextDataset(BatchFormat.PAIR, [["q1", "q2"], ["p1", "q1"]], None, name="pairs")
MULTI = TextDataset(BatchFormat.MULTI_NEGATIVE, [["q1"], ["p1"], ["n1"], ["n2"]], None, name="multi")


@pytest.mark.parametrize("rows", [PAIRS, TRIPLETS, MULTI], ids=lambda r: r.name)
def test_guide_labels_every_column_with_its_embedding_each_text_embedded_once(rows):
    teacher = FakeTeacher()
    out = get_distillation("guide").apply(rows, teacher)
    assert out.format is BatchFormat.GUIDED and out.columns == rows.columns
    expected = np.stack([[FakeTeacher.vector(t) for t in row] for row in rows.row_texts()])
    np.testing.assert_array_equal(out.labels, expected)
    assert out.labels.dtype == np.float32 and out[0].label.shape == (len(rows.columns), 4)
    assert len(teacher.calls) == 1 and sorted(teacher.calls[0]) == sorted({t for r in rows.row_texts() for t in r})


@pytest.mark.parametrize("rows", [TRIPLETS, MULTI], ids=lambda r: r.name)
def test_scores_are_the_teacher_dot_products_of_the_query_with_each_candidate(rows):
    out = get_distillation("scores").apply(rows, FakeTeacher())
    assert out.format is BatchFormat.TEACHER_SCORED and out.columns == rows.columns
    v = FakeTeacher.vector
    expected = [[float(v(query) @ v(c)) for c in candidates] for query, *candidates in rows.row_texts()]
    np.testing.assert_allclose(out.labels, expected, rtol=1e-5)
    assert out.labels.dtype == np.float32


def test_guided_rows_collate_into_column_embedding_labels(tiny_model_dir):
    from transformers import AutoTokenizer

    from datamodules.collators import TokenizingCollator

    out = get_distillation("guide").apply(TRIPLETS, FakeTeacher())
    collate = TokenizingCollator(AutoTokenizer.from_pretrained(tiny_model_dir), BatchFormat.GUIDED, 16)
    batch = collate([out[0], out[1]])
    assert batch.format is BatchFormat.GUIDED and len(batch.features) == 3
    assert batch.labels.shape == (2, 3, 4) and batch.labels.dtype.is_floating_point
    np.testing.assert_array_equal(batch.labels.numpy(), out.labels[:2])


@pytest.mark.parametrize(
    ("name", "rows", "match"),
    [
        ("embeddings", TRIPLETS, "distill='embeddings' needs single .* set conversion to pairs_to_singles"),
        ("margins", SINGLES, "distill='margins' needs triplet .* got single"),
        ("guide", SINGLES, r"distill='guide' needs pair .* or triplet .* or multi_negative .* got single"),
        ("scores", PAIRS, r"distill='scores' needs triplet .* or multi_negative .* got pair .*at least one negative"),
    ],
)
def test_wrong_input_formats_are_refused(name, rows, match):
    with pytest.raises(ValueError, match=match):
        get_distillation(name).apply(rows, FakeTeacher())


def test_unknown_name():
    with pytest.raises(ValueError, match="distill='x' is unknown"):
        get_distillation("x")
