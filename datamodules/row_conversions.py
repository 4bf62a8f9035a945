"""The row functions behind the named conversions (see ``datamodules.conversion``).

Every conversion is a pure function of the rows, a seeded generator and (for ``labels_to_hard_triplets``)
the teacher's cached embeddings: the same seed and teacher give the same rows. Conversions run once, in
``setup``; sampling then reshuffles the converted rows every epoch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from core.batch_formats import BatchFormat
from datamodules.errors import DataValidationError
from datamodules.hard_negatives import hardest_negatives
from datamodules.text_dataset import TextDataset

# Contrastive Tension: one identical pair per this many pairs (sentence-transformers' pos_neg_ratio).
CONTRASTIVE_TENSION_POS_NEG_RATIO = 8


class Embedder(Protocol):
    """What model-based conversions need from a teacher (``TeacherEmbeddings`` satisfies it)."""

    teacher: object  # the model, named in row descriptions

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), D)`` embeddings of ``texts``."""


def _new(
    source: TextDataset, fmt: BatchFormat, columns: list[list[str]], labels: np.ndarray | None, what: str
) -> TextDataset:
    name = f"{source.name} -> {what}"
    if not columns[0]:
        raise DataValidationError(f"{name}: the conversion produced no rows")
    return TextDataset(fmt, columns, labels, None, name=name)


def _rows_by_label(dataset: TextDataset) -> dict[int, np.ndarray]:
    groups: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(dataset.labels.tolist()):
        groups[label].append(index)
    if len(groups) < 2:
        raise DataValidationError(
            f"{dataset.name}: needs at least 2 distinct labels to draw negatives, got {len(groups)}"
        )
    return {label: np.asarray(rows) for label, rows in groups.items()}


def _positive_and_negative(dataset: TextDataset, rng: np.random.Generator) -> list[tuple[int, int | None, int]]:
    """For each row: (row, a random other row of its label or None, a random row of another label)."""
    groups = _rows_by_label(dataset)
    labels = dataset.labels
    out = []
    for index, label in enumerate(labels.tolist()):
        same = groups[label][groups[label] != index]
        positive = int(rng.choice(same)) if same.size else None
        negative = int(rng.integers(len(labels)))
        while labels[negative] == label:  # rejection sampling: at least 2 labels exist, so this ends
            negative = int(rng.integers(len(labels)))
        out.append((index, positive, negative))
    return out


def labels_to_triplets(
    dataset: TextDataset, rng: np.random.Generator, threshold: float | None, teacher: Embedder | None
) -> TextDataset:
    """Labeled sentences → (anchor, same-label positive, random other-label negative), one per anchor.

    Anchors whose label has no other row are skipped.
    """
    rows = [(a, p, n) for a, p, n in _positive_and_negative(dataset, rng) if p is not None]
    return _triplets(dataset, rows, "labels_to_triplets")


def labels_to_hard_triplets(
    dataset: TextDataset, rng: np.random.Generator, threshold: float | None, teacher: Embedder | None
) -> TextDataset:
    """Labeled sentences → (anchor, same-label positive, hardest other-label negative), one per anchor.

    The negative is the other-label row whose ``teacher`` embedding is the most cosine-similar to the
    anchor's ("hardest by the current model": the model is the DataModule's ``teacher``, as it is when the
    data is set up; left at the encoder's model, that is the encoder's initial weights, and the negatives
    are not re-mined during training). The positives are the ones ``labels_to_triplets`` draws with the
    same seed. Anchors whose label has no other row are skipped.
    """
    hardest = hardest_negatives(teacher.embed(dataset.columns[0]), dataset.labels)
    rows = [(a, p, int(hardest[a])) for a, p, _ in _positive_and_negative(dataset, rng) if p is not None]
    return _triplets(dataset, rows, f"labels_to_hard_triplets(teacher={teacher.teacher!r})")


def _triplets(dataset: TextDataset, rows: list[tuple[int, int, int]], what: str) -> TextDataset:
    texts = dataset.columns[0]
    columns = [[texts[a] for a, _, _ in rows], [texts[p] for _, p, _ in rows], [texts[n] for _, _, n in rows]]
    return _new(dataset, BatchFormat.TRIPLET, columns, None, what)


def labels_to_binary_pairs(
    dataset: TextDataset, rng: np.random.Generator, threshold: float | None, teacher: Embedder | None
) -> TextDataset:
    """Labeled sentences → pairs: per anchor one same-label pair (1) and one other-label pair (0)."""
    texts = dataset.columns[0]
    first: list[str] = []
    second: list[str] = []
    labels: list[int] = []
    for anchor, positive, negative in _positive_and_negative(dataset, rng):
        for other, label in ((positive, 1), (negative, 0)):
            if other is not None:
                first.append(texts[anchor])
                second.append(texts[other])
                labels.append(label)
    array = np.asarray(labels, dtype=np.int64)
    return _new(dataset, BatchFormat.BINARY_PAIR, [first, second], array, "labels_to_binary_pairs")


def scored_to_binary_pairs(
    dataset: TextDataset, rng: np.random.Generator, threshold: float | None, teacher: Embedder | None
) -> TextDataset:
    """Scored pairs → binary pairs: label 1 where score >= threshold (raw score scale)."""
    labels = (dataset.labels >= threshold).astype(np.int64)
    what = f"scored_to_binary_pairs(threshold={threshold})"
    return _new(dataset, BatchFormat.BINARY_PAIR, [list(c) for c in dataset.columns], labels, what)


def scored_to_positive_pairs(
    dataset: TextDataset, rng: np.random.Generator, threshold: float | None, teacher: Embedder | None
) -> TextDataset:
    """Scored pairs → (anchor, positive) pairs: only pairs with score >= threshold are kept."""
    keep = np.flatnonzero(dataset.labels >= threshold)
    columns = [[column[i] for i in keep] for column in dataset.columns]
    return _new(dataset, BatchFormat.PAIR, columns, None, f"scored_to_positive_pairs(threshold={threshold})")


def _nli_hypotheses(dataset: TextDataset) -> dict[str, dict[str, list[str]]]:
    """Map premise → {"entailment": [...], "contradiction": [...]} (first-appearance order, no repeats)."""
    names = dataset.label_names or []
    missing = {"entailment", "contradiction"} - set(names)
    if missing:
        raise DataValidationError(f"{dataset.name}: NLI labels must include {sorted(missing)}; found labels {names}")
    by_premise: dict[str, dict[str, list[str]]] = defaultdict(lambda: {"entailment": [], "contradiction": []})
    for premise, hypothesis, label in zip(*dataset.columns, dataset.labels.tolist(), strict=True):
        bucket = by_premise[premise].get(names[label])
        if bucket is not None and hypothesis not in bucket:
            bucket.append(hypothesis)
    return by_premise


def nli_to_triplets(
    dataset: TextDataset, rng: np.random.Generator, threshold: float | None, teacher: Embedder | None
) -> TextDataset:
    """NLI pairs → (premise, entailed hypothesis, contradicting hypothesis of the same premise).

    One triplet per entailed hypothesis, its negative drawn at random among that premise's
    contradictions; premises without a contradiction are skipped.
    """
    columns: list[list[str]] = [[], [], []]
    for premise, hyps in _nli_hypotheses(dataset).items():
        if hyps["contradiction"]:
            for positive in hyps["entailment"]:
                negative = str(rng.choice(hyps["contradiction"]))
                for column, text in zip(columns, (premise, positive, negative), strict=True):
                    column.append(text)
    return _new(dataset, BatchFormat.TRIPLET, columns, None, "nli_to_triplets")


def nli_to_positive_pairs(
    dataset: TextDataset, rng: np.random.Generator, threshold: float | None, teacher: Embedder | None
) -> TextDataset:
    """NLI pairs → (premise, entailed hypothesis) pairs."""
    columns: list[list[str]] = [[], []]
    for premise, hyps in _nli_hypotheses(dataset).items():
        for positive in hyps["entailment"]:
            columns[0].append(premise)
            columns[1].append(positive)
    return _new(dataset, BatchFormat.PAIR, columns, None, "nli_to_positive_pairs")


def distinct_texts(dataset: TextDataset) -> list[str]:
    """The distinct texts of all columns, in first-appearance order (row by row)."""
    return list(dict.fromkeys(text for row in dataset.row_texts() for text in row))


def to_singles(
    dataset: TextDataset, rng: np.random.Generator, threshold: float | None, teacher: Embedder | None
) -> TextDataset:
    """Any rows → the distinct texts of all columns, one per row (first-appearance order); labels dropped."""
    return _new(dataset, BatchFormat.SINGLE, [distinct_texts(dataset)], None, "singles")


def sentences_to_contrastive_tension_pairs(
    dataset: TextDataset, rng: np.random.Generator, threshold: float | None, teacher: Embedder | None
) -> TextDataset:
    """Any rows → Contrastive Tension pairs, built as sentence-transformers' ``ContrastiveTensionDataLoader``.

    The distinct texts of all columns are shuffled and walked in order: every
    ``CONTRASTIVE_TENSION_POS_NEG_RATIO``-th pair (the first, the 9th, ...) is a sentence with itself
    (label 1), the others pair a sentence with the next one (label 0); each text is used once. The
    sampler then shuffles these pairs every epoch, so a batch holds 1/8 identical pairs in expectation
    (sentence-transformers fixes the positions within each batch).
    """
    texts = distinct_texts(dataset)
    order = rng.permutation(len(texts))
    first: list[str] = []
    second: list[str] = []
    labels: list[int] = []
    position = 0
    while position + 1 < len(order):
        sentence = texts[order[position]]
        identical = len(labels) % CONTRASTIVE_TENSION_POS_NEG_RATIO == 0
        if not identical:
            position += 1
        first.append(sentence)
        second.append(texts[order[position]])
        labels.append(int(identical))
        position += 1
    array = np.asarray(labels, dtype=np.int64)
    return _new(dataset, BatchFormat.BINARY_PAIR, [first, second], array, "contrastive_tension_pairs")
