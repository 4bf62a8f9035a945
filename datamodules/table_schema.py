"""Validate a table against a data format and turn it into a :class:`TextDataset`."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pytorch_lightning.utilities import rank_zero_info

from core.batch_formats import LabelKind
from datamodules.errors import DataValidationError
from datamodules.source_format import (
    NLI,
    SourceFormat,
    describe_source,
    parse_source_format,
    source_columns,
    source_label_kind,
)
from datamodules.table_reader import read_table
from datamodules.text_dataset import TextDataset

LABEL_FIELD = "label"


@dataclass(frozen=True)
class TableSchema:
    """How the columns of a data file map onto a format, and what values are allowed.

    Attributes:
        format: The format the rows are in.
        columns: Format field (its text columns plus ``"label"``) → file column. Fields not listed use
            their own name, except the label of scored formats, which defaults to ``"score"``. The
            repeating ``negative`` field of ``multi_negative`` maps to a list of columns; unmapped, it
            reads ``negative_1, negative_2, ...`` (as many as the file has), else a single ``negative``.
        score_range: Inclusive range scores must lie in (scored formats); ``None`` skips the check.
        drop_duplicates: Drop exact duplicate rows (texts and label) instead of only warning about them.
    """

    format: SourceFormat
    columns: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    score_range: tuple[float, float] | None = None
    drop_duplicates: bool = False

    def __post_init__(self) -> None:
        allowed = set(source_columns(self.format)) | ({LABEL_FIELD} if self._has_label else set())
        unknown = sorted(set(self.columns) - allowed)
        if unknown:
            raise ValueError(
                f"columns={dict(self.columns)}: unknown field(s) {unknown} "
                f"for {describe_source(self.format)}; "
                f"map fields {sorted(allowed)} to file columns"
            )
        for name, column in self.columns.items():
            if isinstance(column, str):
                continue
            if name != self._variadic_field or not column or not all(isinstance(c, str) for c in column):
                expected = "a column name or a non-empty list of them" if name == self._variadic_field else "a column"
                raise ValueError(
                    f"columns={dict(self.columns)}: field '{name}' maps to {column!r}; expected {expected}"
                )
        if self.score_range is not None and not self.score_range[0] < self.score_range[1]:
            raise ValueError(f"score_range={self.score_range}: expected (low, high) with low < high")

    @classmethod
    def from_options(
        cls,
        format: str,
        columns: Mapping[str, str | Sequence[str]] | None,
        score_range: Sequence[float] | None,
        drop_duplicates: bool,
    ) -> TableSchema:
        """The schema a source's YAML options describe (``format`` by name, ``score_range`` as a pair)."""
        return cls(
            format=parse_source_format(format),
            columns=dict(columns or {}),
            score_range=None if score_range is None else (float(score_range[0]), float(score_range[1])),
            drop_duplicates=drop_duplicates,
        )

    @property
    def _has_label(self) -> bool:
        return source_label_kind(self.format) is not LabelKind.NONE

    @property
    def _variadic_field(self) -> str | None:
        """The repeating last text field (``negative`` of ``multi_negative``), if the format has one."""
        return None if self.format == NLI or not self.format.variadic else self.format.columns[-1]

    def file_column(self, field_name: str) -> str:
        """The file column holding format field ``field_name`` (one that does not repeat)."""
        default = "score" if field_name == LABEL_FIELD and self.format_label_kind is LabelKind.SCORE else field_name
        column = self.columns.get(field_name, default)
        if not isinstance(column, str):
            raise ValueError(f"field '{field_name}' maps to several columns {column!r}; expected one")
        return column

    def field_columns(self, available: Sequence[str]) -> list[tuple[str, str]]:
        """``(field, file column)`` of every column read, texts in batch order then the label.

        Args:
            available: The table's columns (they decide how many ``negative_i`` columns a
                ``multi_negative`` table has when ``columns`` does not list them).
        """
        pairs = []
        for name in source_columns(self.format):
            if name == self._variadic_field:
                pairs += [(name, column) for column in self._repeated_columns(name, available)]
            else:
                pairs.append((name, self.file_column(name)))
        return pairs + ([(LABEL_FIELD, self.file_column(LABEL_FIELD))] if self._has_label else [])

    def _repeated_columns(self, name: str, available: Sequence[str]) -> list[str]:
        mapped = self.columns.get(name)
        if mapped is not None:
            return [mapped] if isinstance(mapped, str) else list(mapped)
        numbered = list(itertools.takewhile(set(available).__contains__, (f"{name}_{i}" for i in itertools.count(1))))
        if numbered:
            return numbered
        # A single unnumbered column is a triplet file; neither: report the first numbered column as missing.
        return [name] if name in available else [f"{name}_1"]

    @property
    def format_label_kind(self) -> LabelKind:
        """What the label column holds."""
        return source_label_kind(self.format)

    def load(self, path: Path, label_names: Sequence[str] | None = None) -> TextDataset:
        """Read and validate ``path`` (see :meth:`validate`).

        Args:
            path: The data file.
            label_names: Known class names (class-id formats); ``None`` derives them from the file.

        Returns:
            The validated rows.

        Raises:
            DataValidationError: On an unreadable file or the first bad cell.
        """
        return self.validate(read_table(path), str(path), label_names)

    def validate(self, frame: pd.DataFrame, name: str, label_names: Sequence[str] | None = None) -> TextDataset:
        """Validate a table already in memory (read from a file, or converted from a Hugging Face split).

        Args:
            frame: One row per data row, with a 0-based ``RangeIndex`` (messages count rows from 1).
            name: Where the table came from (file path, dataset and split), used in messages.
            label_names: Known class names (class-id formats); ``None`` derives them (sorted) from this
                table, otherwise a label outside them is an error.

        Returns:
            The validated rows.

        Raises:
            DataValidationError: On the first bad cell, naming table, row, column and what was expected.
        """
        pairs = self.field_columns(list(frame.columns))
        missing = [(f, c) for f, c in pairs if c not in frame.columns]
        if missing:
            field_name, column = missing[0]
            hint = "['<column>', ...]" if field_name == self._variadic_field else "'<column>'"
            raise DataValidationError(
                f"{name}: column '{column}' (field '{field_name}' of {describe_source(self.format)}) "
                f"not found; available columns: {list(frame.columns)}; "
                f"map it with columns={{'{field_name}': {hint}}}"
            )
        frame = self._deduplicate(frame, name, [c for _, c in pairs])
        texts = [self._texts(frame, name, c) for f, c in pairs if f != LABEL_FIELD]
        labels, names = self._labels(frame, name, label_names) if self._has_label else (None, None)
        return TextDataset(self.format, texts, labels, names, name=name)

    def _deduplicate(self, frame: pd.DataFrame, name: str, columns: list[str]) -> pd.DataFrame:
        duplicated = frame.duplicated(subset=columns).to_numpy()
        count = int(duplicated.sum())
        if count == 0:
            return frame
        # One line per table, not a warning: duplicates are common in public data and kept on purpose by default.
        if self.drop_duplicates:
            rank_zero_info(f"{name}: dropped {count} duplicate rows (drop_duplicates=True)")
            return frame.loc[~duplicated]
        rank_zero_info(f"{name}: {count} duplicate rows kept (drop_duplicates=True drops them)")
        return frame

    @staticmethod
    def _texts(frame: pd.DataFrame, name: str, column: str) -> list[str]:
        values = frame[column].tolist()
        for row, value in zip(frame.index, values, strict=True):
            if not isinstance(value, str) or not value.strip():
                raise DataValidationError(
                    f"{name}, row {row + 1}, column '{column}': expected non-empty text, got {value!r}"
                )
        return values

    def _labels(
        self, frame: pd.DataFrame, name: str, label_names: Sequence[str] | None
    ) -> tuple[np.ndarray, list[str] | None]:
        column = self.file_column(LABEL_FIELD)
        values = frame[column].tolist()
        where = [f"{name}, row {row + 1}, column '{column}'" for row in frame.index]
        if self.format_label_kind is LabelKind.CLASS_ID:
            return self._class_ids(values, where, label_names)
        if self.format_label_kind is LabelKind.BINARY:
            return np.array([_binary(v, w) for v, w in zip(values, where, strict=True)], dtype=np.int64), None
        scores = np.array([_score(v, w) for v, w in zip(values, where, strict=True)], dtype=np.float32)
        if self.score_range is not None:
            low, high = self.score_range
            bad = np.flatnonzero((scores < low) | (scores > high))
            if bad.size:
                raise DataValidationError(
                    f"{where[bad[0]]}: expected a score in the declared score_range [{low}, {high}], "
                    f"got {values[bad[0]]!r}"
                )
        return scores, None

    @staticmethod
    def _class_ids(
        values: list[object], where: list[str], label_names: Sequence[str] | None
    ) -> tuple[np.ndarray, list[str]]:
        labels = [str(v).strip() for v in values]
        for label, w in zip(labels, where, strict=True):
            if not label:
                raise DataValidationError(f"{w}: expected a class label, got an empty cell")
        names = list(label_names) if label_names is not None else sorted(set(labels))
        ids = {name: i for i, name in enumerate(names)}
        for label, w in zip(labels, where, strict=True):
            if label not in ids:
                shown = names if len(names) <= 10 else names[:10] + ["..."]
                raise DataValidationError(f"{w}: unknown label {label!r}; expected one of {shown}")
        return np.array([ids[label] for label in labels], dtype=np.int64), names


def _binary(value: object, where: str) -> int:
    text = str(value).strip().lower()
    if text in ("0", "false"):
        return 0
    if text in ("1", "true"):
        return 1
    raise DataValidationError(f"{where}: expected a binary label 0 or 1, got {value!r}")


def _score(value: object, where: str) -> float:
    try:
        if isinstance(value, bool):
            raise ValueError
        score = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DataValidationError(f"{where}: expected a numeric score, got {value!r}") from None
    if not math.isfinite(score):
        raise DataValidationError(f"{where}: expected a finite numeric score, got {value!r}")
    return score
