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


@pytest.mark.parametrize(
    ("name", "rows", "match"),
    [
        ("embeddings", TRIPLETS, "distill='embeddings' needs single .* set conversion to pairs_to_singles"),
        ("margins", SINGLES, "distill='margins' needs triplet .* got single"),
    ],
)
def test_wrong_input_formats_are_refused(name, rows, match):
    with pytest.raises(ValueError, match=match):
        get_distillation(name).apply(rows, FakeTeacher())


def test_unknown_name():
    with pytest.raises(ValueError, match="distill='x' is unknown"):
        get_distillation("x")
