"""Teacher labels of the training rows: embeddings of sentences or of every column, margins, candidate scores."""

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

DistillTarget = Literal["embeddings", "margins", "guide", "scores"]


def teacher_embedding_rows(sentences: TextDataset, teacher: TeacherEmbeddings) -> TextDataset:
    """Single sentences → ``(sentence, teacher embedding)`` rows (the distillation format of MSELoss)."""
    embeddings = teacher.embed(sentences.columns[0])
    name = f"{sentences.name} -> teacher embeddings ({teacher.teacher!r})"
    return TextDataset(BatchFormat.DISTILLATION, [list(sentences.columns[0])], embeddings, name=name)


def column_embeddings(rows: TextDataset, teacher: TeacherEmbeddings) -> np.ndarray:
    """``(rows, columns, D)`` teacher embeddings of every text of ``rows``; each distinct text is embedded once."""
    texts = distinct_texts(rows)
    embeddings = teacher.embed(texts)
    row_of = {text: row for row, text in enumerate(texts)}
    return np.stack([embeddings[[row_of[text] for text in column]] for column in rows.columns], axis=1)


def teacher_margin_rows(triplets: TextDataset, teacher: TeacherEmbeddings) -> TextDataset:
    """``(query, passage1, passage2)`` triplets → margin triplets labelled by the teacher (MarginMSELoss).

    The margin is ``teacher(q) · teacher(p1) - teacher(q) · teacher(p2)`` (dot product, the default
    similarity of MarginMSELoss). Every distinct text is embedded once.
    """
    query, first, second = column_embeddings(triplets, teacher).transpose(1, 0, 2)
    margins = ((query * first).sum(1) - (query * second).sum(1)).astype(np.float32)
    name = f"{triplets.name} -> teacher margins ({teacher.teacher!r})"
    return TextDataset(BatchFormat.MARGIN_TRIPLET, [list(c) for c in triplets.columns], margins, name=name)


def guide_embedding_rows(rows: TextDataset, teacher: TeacherEmbeddings) -> TextDataset:
    """Pairs, triplets or multi-negative rows → ``guided`` rows: the guide's embedding of every column.

    The labels are ``(rows, columns, D)`` float32, column ``c`` holding the guide's embedding of the text
    in column ``c`` (GISTEmbedLoss filters in-batch false negatives with them; EmbedDistillLoss distils
    them column by column). Every distinct text is embedded once.
    """
    labels = column_embeddings(rows, teacher).astype(np.float32)
    name = f"{rows.name} -> guide embeddings ({teacher.teacher!r})"
    return TextDataset(BatchFormat.GUIDED, [list(c) for c in rows.columns], labels, name=name)


def teacher_score_rows(rows: TextDataset, teacher: TeacherEmbeddings) -> TextDataset:
    """Triplets or multi-negative rows → ``teacher_scored`` rows (DistillKLDivLoss).

    The label of a row is ``[teacher(q) · teacher(c) for each candidate column c]`` (positive first), the
    dot product of the teacher's embeddings (its cosine similarity when the teacher normalises, as the
    default ``TeacherEncoder`` does). Every distinct text is embedded once.
    """
    embedded = column_embeddings(rows, teacher)
    scores = np.einsum("rd,rcd->rc", embedded[:, 0], embedded[:, 1:]).astype(np.float32)
    name = f"{rows.name} -> teacher scores ({teacher.teacher!r})"
    return TextDataset(BatchFormat.TEACHER_SCORED, [list(c) for c in rows.columns], scores, name=name)


@dataclass(frozen=True)
class Distillation:
    """A way to label training rows with a teacher.

    Attributes:
        name: Its name in configs (the DataModule's ``distill`` option).
        inputs: The training formats it reads (after any conversion).
        output: The training format it produces.
        function: ``(rows, teacher) -> rows``.
        hint: How to obtain one of ``inputs``, for the error message.
    """

    name: str
    inputs: tuple[BatchFormat, ...]
    output: BatchFormat
    function: Callable[[TextDataset, TeacherEmbeddings], TextDataset]
    hint: str

    def check(self, fmt: SourceFormat) -> None:
        """Raise a ``ValueError`` if the training rows are not in this distillation's input format."""
        if fmt not in self.inputs:
            needed = " or ".join(describe_source(f) for f in self.inputs)
            raise ValueError(
                f"distill={self.name!r} needs {needed} training rows, got {describe_source(fmt)}; {self.hint}"
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
            (BatchFormat.SINGLE,),
            BatchFormat.DISTILLATION,
            teacher_embedding_rows,
            "set conversion to pairs_to_singles or labels_to_singles",
        ),
        Distillation(
            "margins",
            (BatchFormat.TRIPLET,),
            BatchFormat.MARGIN_TRIPLET,
            teacher_margin_rows,
            "use triplet data (e.g. snli_triplets) or conversion nli_to_triplets / labels_to_triplets",
        ),
        Distillation(
            "guide",
            (BatchFormat.PAIR, BatchFormat.TRIPLET, BatchFormat.MULTI_NEGATIVE),
            BatchFormat.GUIDED,
            guide_embedding_rows,
            "use pair or triplet data (e.g. snli_triplets, snli_positive_pairs) or a conversion to them",
        ),
        Distillation(
            "scores",
            (BatchFormat.TRIPLET, BatchFormat.MULTI_NEGATIVE),
            BatchFormat.TEACHER_SCORED,
            teacher_score_rows,
            "use data with at least one negative per query (e.g. snli_triplets) or conversion nli_to_triplets",
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
