"""Where a DataModule's rows come from: the interface every data source implements."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Literal

from core.batch_formats import BatchFormat
from datamodules.errors import DataValidationError
from datamodules.source_format import NLI, SourceFormat
from datamodules.table_schema import TableSchema
from datamodules.text_dataset import TextDataset

DATA_DIR_ENV = "LOSSLAB_DATA_DIR"
Split = Literal["train", "val", "test"]


def resolve_data_dir(data_dir: str | None) -> Path:
    """The data directory: ``data_dir``, else ``$LOSSLAB_DATA_DIR``.

    Raises:
        DataValidationError: If neither is set or the directory does not exist.
    """
    value = data_dir or os.environ.get(DATA_DIR_ENV)
    if not value:
        raise DataValidationError(
            f"no data directory: pass data_dir (YAML: data.source.init_args.data_dir: /path/to/shared/data) "
            f"or set the environment variable {DATA_DIR_ENV}=/path/to/shared/data"
        )
    path = Path(value).expanduser()
    if not path.is_dir():
        raise DataValidationError(
            f"data_dir {path} is not a directory (from {'data_dir' if data_dir else DATA_DIR_ENV})"
        )
    return path


def evaluable_format(fmt: SourceFormat) -> BatchFormat:
    """Format validation/test rows are served in: NLI pairs become triplets, the rest stay as read."""
    return BatchFormat.TRIPLET if fmt == NLI else fmt


class DataSource(ABC):
    """The splits of one dataset and how each is read and validated (no conversion, no batching).

    A new kind of source (a database, another file layout) is one small subclass; the DataModule does
    the rest (conversions, teacher labels, samplers, loaders).

    Attributes:
        description: Short name for messages, e.g. ``"stsb"`` or a file name.
        train_schema: How training rows are read (their format, columns and score range).
        val_fraction: When > 0, validation is this seeded fraction of the training rows (stratified by class
            for class labels), for sources without a validation split of their own.
        label_names: Fixed class names (class-id formats); ``None`` derives them from the training rows.
    """

    description: str
    train_schema: TableSchema
    val_fraction: float = 0.0
    label_names: tuple[str, ...] | None = None

    def _check_val_fraction(self) -> None:
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction={self.val_fraction}: expected a fraction in [0, 1)")
        if self.val_fraction and self.has_split("val"):
            raise ValueError(f"{self.description}: give either a validation split or val_fraction, not both")

    @abstractmethod
    def has_split(self, split: Split) -> bool:
        """Whether the source has its own ``split`` (``train`` always)."""

    def schema(self, split: Split) -> TableSchema:
        """How ``split`` is read (default: like the training rows)."""
        return self.train_schema

    @abstractmethod
    def prepare(self) -> None:
        """Check the configured splits exist (or fetch them), without reading them all.

        Raises:
            DataValidationError: Naming the missing file or split.
        """

    @abstractmethod
    def load(self, split: Split, label_names: list[str] | None) -> TextDataset:
        """Read and validate ``split``.

        Args:
            split: ``train``, ``val`` or ``test`` (one the source has).
            label_names: Known class names (class-id formats); ``None`` derives them from the rows.
        """

    def val_format(self) -> BatchFormat | None:
        """Format of validation batches, or ``None`` without validation data."""
        if self.has_split("val"):
            return evaluable_format(self.schema("val").format)
        return evaluable_format(self.train_schema.format) if self.val_fraction > 0 else None

    def test_format(self) -> BatchFormat | None:
        """Format of test batches, or ``None`` without a test split."""
        return evaluable_format(self.schema("test").format) if self.has_split("test") else None
