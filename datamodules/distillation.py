"""Teacher labels for distillation: embeddings of single sentences, or margins of triplets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from core.batch_formats import BatchFormat
from datamodules.row_conversions import distinct_texts
from datamodules.source_format import SourceFormat, describe_source
from datamodules.teacher_embeddings import TeacherEmbeddings
from datamodules.text_dataset import TextDataset

DistillTarget = Literal["embeddings", "margins"]


def teacher_embedding_rows(sentences: TextDataset, teacher: TeacherEmbeddings) -> TextDataset:
    """Single sentences → ``(sentence, teacher embedding)`` rows (the distillation format of MSELoss)."""
    embeddings = teacher.embed(sentences.columns[0])
    name = f"{sentences.name} -> teacher embeddings ({teacher.teacher!r})"
    return TextDataset(BatchFormat.DISTILLATION, [list(sentences.columns[0])], embeddings, name=name)


def teacher_margin_rows(triplets: TextDataset, teacher: TeacherEmbeddings) -> TextDataset:
    """``(query, passage1, passage2)`` triplets → margin triplets labelled by the teacher (MarginMSELoss).

    The margin is ``teacher(q) · teacher(p1) - teacher(q) · teacher(p2)`` (dot product, the default
    similarity of MarginMSELoss). Every distinct text is embedded once.
    """
    texts = distinct_texts(triplets)
    embeddings = teacher.embed(texts)
    row_of = {text: row for row, text in enumerate(texts)}
    query, first, second = (embeddings[[row_of[text] for text in column]] for column in triplets.columns)
    margins = ((query * first).sum(1) - (query * second).sum(1)).astype(np.float32)
    name = f"{triplets.name} -> teacher margins ({teacher.teacher!r})"
    return TextDataset(BatchFormat.MARGIN_TRIPLET, [list(c) for c in triplets.columns], margins, name=name)


@dataclass(frozen=True)
class Distillation:
    """A way to label training rows with a teacher.

    Attributes:
        name: Its name in configs (the DataModule's ``distill`` option).
        input: The training format it reads (after any conversion).
        output: The training format it produces.
        function: ``(rows, teacher) -> rows``.
        hint: How to obtain ``input``, for the error message.
    """

    name: str
    input: BatchFormat
    output: BatchFormat
    function: Callable[[TextDataset, TeacherEmbeddings], TextDataset]
    hint: str

    def check(self, fmt: SourceFormat) -> None:
        """Raise a ``ValueError`` if the training rows are not in this distillation's input format."""
        if fmt != self.input:
            raise ValueError(
                f"distill={self.name!r} needs {describe_source(self.input)} training rows, got "
                f"{describe_source(fmt)}; {self.hint}"
            )

    def apply(self, dataset: TextDataset, teacher: TeacherEmbeddings) -> TextDataset:
        """Label ``dataset`` with ``teacher``."""
        self.check(dataset.format)
        return self.function(dataset, teacher)


DISTILLATIONS: dict[str, Distillation] = {
    d.name: d
    for d in (
        Distillation(
            "embeddings",
            BatchFormat.SINGLE,
            BatchFormat.DISTILLATION,
            teacher_embedding_rows,
            "set conversion to pairs_to_singles or labels_to_singles",
        ),
        Distillation(
            "margins",
            BatchFormat.TRIPLET,
            BatchFormat.MARGIN_TRIPLET,
            teacher_margin_rows,
            "use triplet data (e.g. snli_triplets) or conversion nli_to_triplets / labels_to_triplets",
        ),
    )
}


def get_distillation(name: str) -> Distillation:
    """Look up a distillation by name.

    Raises:
        ValueError: If ``name`` is unknown (lists the known ones).
    """
    if name not in DISTILLATIONS:
        raise ValueError(f"distill={name!r} is unknown; expected one of {sorted(DISTILLATIONS)}")
    return DISTILLATIONS[name]
