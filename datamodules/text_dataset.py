"""In-memory rows of texts and labels, indexable by samplers and collated into batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from torch.utils.data import Dataset

from datamodules.source_format import NLI, SourceFormat, source_columns


class Example(NamedTuple):
    """One row: its texts (in column order) and its label (``None`` for label-free formats)."""

    texts: tuple[str, ...]
    label: float | int | np.ndarray | None


@dataclass
class TextDataset(Dataset):
    """Column-major texts plus labels, in one :data:`SourceFormat`.

    Attributes:
        format: The format of the rows.
        columns: One list of texts per text column of ``format``, all of equal length (``multi_negative``:
            anchor, positive, then one column per negative).
        labels: One label per row (class id, score, 0/1, teacher margin), a ``(rows, D)`` array of teacher
            embeddings (distillation), or ``None`` for label-free formats.
        label_names: Class names indexed by class id (class-id formats only).
        name: Where the rows came from (file path, or path plus conversion), used in messages.
    """

    format: SourceFormat
    columns: list[list[str]]
    labels: np.ndarray | None
    label_names: list[str] | None = None
    name: str = ""

    def __post_init__(self) -> None:
        # A format whose negatives are optional (guided) also takes pairs.
        expected = len(source_columns(self.format)) if self.format == NLI else self.format.min_columns
        # A repeating last column (multi_negative's negatives) may occur any number of times >= 1.
        variadic = self.format != NLI and self.format.variadic
        if (len(self.columns) < expected) if variadic else (len(self.columns) != expected):
            at_least = "at least " if variadic else ""
            raise ValueError(f"{self.name}: {at_least}{expected} text columns expected, got {len(self.columns)}")
        lengths = {len(c) for c in self.columns} | ({len(self.labels)} if self.labels is not None else set())
        if len(lengths) > 1:
            raise ValueError(f"{self.name}: columns and labels differ in length: {sorted(lengths)}")

    def __len__(self) -> int:
        return len(self.columns[0])

    def __getitem__(self, index: int) -> Example:
        texts = tuple(column[index] for column in self.columns)
        if self.labels is None:
            return Example(texts, None)
        label = self.labels[index]
        return Example(texts, label.item() if label.ndim == 0 else label)

    def row_texts(self) -> list[tuple[str, ...]]:
        """All rows' texts, row-major (for the no-duplicates sampler)."""
        return list(zip(*self.columns, strict=True))

    def subset(self, indices: Sequence[int] | np.ndarray, name: str | None = None) -> TextDataset:
        """A new dataset holding ``indices`` (in that order)."""
        idx = np.asarray(indices, dtype=np.int64)
        return TextDataset(
            format=self.format,
            columns=[[column[i] for i in idx] for column in self.columns],
            labels=None if self.labels is None else self.labels[idx],
            label_names=self.label_names,
            name=self.name if name is None else name,
        )
