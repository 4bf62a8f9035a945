"""Where a DataModule's splits come from and how they are read (configuration only, no I/O)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.batch_formats import BatchFormat
from datamodules.errors import DataValidationError
from datamodules.source_format import NLI, SourceFormat
from datamodules.table_schema import TableSchema

DATA_DIR_ENV = "LOSSLAB_DATA_DIR"


def resolve_data_dir(data_dir: str | None) -> Path:
    """The data directory: ``data_dir``, else ``$LOSSLAB_DATA_DIR``.

    Raises:
        DataValidationError: If neither is set or the directory does not exist.
    """
    value = data_dir or os.environ.get(DATA_DIR_ENV)
    if not value:
        raise DataValidationError(
            f"no data directory: pass data_dir (YAML: data.init_args.data_dir: /path/to/shared/data) "
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


@dataclass(frozen=True)
class DataSource:
    """Files of the three splits and how to read each.

    For a source that is not files (a Hugging Face dataset), the ``*_file`` fields hold split names and
    the DataModule reading it overrides how a split is loaded.

    Attributes:
        description: Short name for messages, e.g. ``"stsb"`` or a train file path.
        train_file: Training file (relative to the data directory unless absolute).
        train_schema: How to read it.
        val_file: Validation file, or ``None``.
        val_schema: How to read the validation file (``None``: as the training file).
        test_file: Test file, or ``None``.
        test_schema: How to read the test file (``None``: as the training file).
        val_split: When > 0, validation is this seeded fraction of the training file (stratified by
            class for class labels) and ``val_file`` must be ``None``.
        label_names: Fixed class names (class-id formats); ``None`` derives them from the training file.
    """

    description: str
    train_file: str
    train_schema: TableSchema
    val_file: str | None = None
    val_schema: TableSchema | None = None
    test_file: str | None = None
    test_schema: TableSchema | None = None
    val_split: float = 0.0
    label_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.val_split and self.val_file is not None:
            raise ValueError(f"{self.description}: give either val_file or val_split, not both")
        if not 0.0 <= self.val_split < 1.0:
            raise ValueError(f"val_split={self.val_split}: expected a fraction in [0, 1)")

    def val_format(self) -> BatchFormat | None:
        """Format of validation batches, or ``None`` without validation data."""
        if self.val_file is not None:
            return evaluable_format((self.val_schema or self.train_schema).format)
        return evaluable_format(self.train_schema.format) if self.val_split > 0 else None

    def test_format(self) -> BatchFormat | None:
        """Format of test batches, or ``None`` without a test file."""
        return None if self.test_file is None else evaluable_format((self.test_schema or self.train_schema).format)

    def paths(self, data_dir: str | None) -> dict[str, Path]:
        """Resolved paths of the configured files, keyed ``train``/``val``/``test``.

        The data directory is only required when some path is relative.
        """
        files = {"train": self.train_file, "val": self.val_file, "test": self.test_file}
        files = {k: Path(v).expanduser() for k, v in files.items() if v is not None}
        if all(p.is_absolute() for p in files.values()):
            return files
        root = resolve_data_dir(data_dir)
        return {k: p if p.is_absolute() else root / p for k, p in files.items()}
