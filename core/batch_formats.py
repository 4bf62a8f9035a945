"""Batch formats: the contract between DataModules and losses.

A DataModule declares which :class:`BatchFormat` it produces; a loss declares which formats it
accepts and which :class:`BatchSampling` it needs. Both sides import only this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import torch
from torch import Tensor


class LabelKind(str, Enum):
    """What the ``labels`` tensor of a batch holds."""

    NONE = "none"
    CLASS_ID = "class_id"  # int64, one class id per row
    SCORE = "score"  # float32 similarity score per row
    BINARY = "binary"  # int64 0/1 per row
    MARGIN = "margin"  # float32 teacher margin per row
    EMBEDDING = "embedding"  # float32 (B, D) teacher embedding per row
    COLUMN_EMBEDDINGS = "column_embeddings"  # float32 (B, C, D): a teacher/guide embedding of every text column
    TEACHER_SCORES = "teacher_scores"  # float32 (B, C - 1): teacher score of the query with each other column


@dataclass(frozen=True)
class _FormatSpec:
    columns: tuple[str, ...]
    label: LabelKind
    variadic: bool = False  # trailing columns repeat (neg_1 ... neg_k)
    optional_tail: bool = False  # the (repeating) last column may also be absent: pairs are rows too


class BatchFormat(str, Enum):
    """The shape of one training/validation batch: its text columns and what its labels mean."""

    LABELED = "labeled"
    SCORED_PAIR = "scored_pair"
    BINARY_PAIR = "binary_pair"
    PAIR = "pair"
    TRIPLET = "triplet"
    MULTI_NEGATIVE = "multi_negative"
    MARGIN_TRIPLET = "margin_triplet"
    SINGLE = "single"
    DISTILLATION = "distillation"
    GUIDED = "guided"
    TEACHER_SCORED = "teacher_scored"

    @property
    def columns(self) -> tuple[str, ...]:
        """Names of the text columns, in the order embeddings reach the loss."""
        return _SPECS[self].columns

    @property
    def label_kind(self) -> LabelKind:
        """What the batch's ``labels`` tensor holds."""
        return _SPECS[self].label

    @property
    def variadic(self) -> bool:
        """Whether the last column repeats (``negative_1 ... negative_k``)."""
        return _SPECS[self].variadic

    @property
    def min_columns(self) -> int:
        """The fewest text columns a row of this format has (``guided``: 2, its negatives are optional)."""
        spec = _SPECS[self]
        return len(spec.columns) - (1 if spec.optional_tail else 0)

    def describe(self) -> str:
        """One-line human description, e.g. ``triplet (anchor, positive, negative)``."""
        spec = _SPECS[self]
        if spec.optional_tail:
            cols = ", ".join(self.columns[:-1]) + f"[, {self.columns[-1]}{' ...' if self.variadic else ''}]"
        else:
            cols = ", ".join(self.columns) + (" ..." if self.variadic else "")
        label = "" if self.label_kind is LabelKind.NONE else f"; labels: {self.label_kind.value}"
        return f"{self.value} ({cols}{label})"


_SPECS: dict[BatchFormat, _FormatSpec] = {
    BatchFormat.LABELED: _FormatSpec(("sentence",), LabelKind.CLASS_ID),
    BatchFormat.SCORED_PAIR: _FormatSpec(("sentence1", "sentence2"), LabelKind.SCORE),
    BatchFormat.BINARY_PAIR: _FormatSpec(("sentence1", "sentence2"), LabelKind.BINARY),
    BatchFormat.PAIR: _FormatSpec(("anchor", "positive"), LabelKind.NONE),
    BatchFormat.TRIPLET: _FormatSpec(("anchor", "positive", "negative"), LabelKind.NONE),
    BatchFormat.MULTI_NEGATIVE: _FormatSpec(("anchor", "positive", "negative"), LabelKind.NONE, variadic=True),
    BatchFormat.MARGIN_TRIPLET: _FormatSpec(("query", "passage1", "passage2"), LabelKind.MARGIN),
    BatchFormat.SINGLE: _FormatSpec(("sentence",), LabelKind.NONE),
    BatchFormat.DISTILLATION: _FormatSpec(("sentence",), LabelKind.EMBEDDING),
    # Pairs, triplets or multi-negative rows with the guide's embedding of every column (GISTEmbed).
    BatchFormat.GUIDED: _FormatSpec(
        ("anchor", "positive", "negative"), LabelKind.COLUMN_EMBEDDINGS, variadic=True, optional_tail=True
    ),
    # A query and >= 2 candidates with the teacher's score of each candidate (DistillKLDivLoss).
    BatchFormat.TEACHER_SCORED: _FormatSpec(("query", "positive", "negative"), LabelKind.TEACHER_SCORES, variadic=True),
}


class BatchSampling(str, Enum):
    """How a loss needs its batches drawn."""

    RANDOM = "random"  # any shuffled batches
    PK = "pk"  # P labels x K examples each: >= 2 labels with >= 2 examples per batch
    NO_DUPLICATES = "no_duplicates"  # no text appears twice in a batch (in-batch negatives)


@dataclass
class TokenizedBatch:
    """One collated batch.

    Attributes:
        features: One tokenizer output (``input_ids``, ``attention_mask``, ...) per text column, in the
            order of ``format.columns``.
        labels: Labels as described by ``format.label_kind``; ``None`` for label-free formats.
        format: The batch format the DataModule produced.
        texts: The raw texts per column (kept for losses that need them, e.g. TSDAE's decoder targets).
    """

    features: list[dict[str, Tensor]]
    labels: Tensor | None
    format: BatchFormat
    texts: list[list[str]] | None = None

    def __len__(self) -> int:
        return int(self.features[0]["input_ids"].shape[0])

    def to(self, device: torch.device | str) -> TokenizedBatch:
        """Move every tensor to ``device`` (Lightning calls this through ``transfer_batch_to_device``)."""
        self.features = [{k: v.to(device) for k, v in f.items()} for f in self.features]
        if self.labels is not None:
            self.labels = self.labels.to(device)
        return self
