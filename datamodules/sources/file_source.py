"""A data source of local files (CSV / TSV / JSONL / Parquet), one per split."""

from __future__ import annotations

from pathlib import Path

from datamodules.errors import DataValidationError
from datamodules.sources.data_source import DataSource, Split, resolve_data_dir
from datamodules.table_schema import TableSchema
from datamodules.text_dataset import TextDataset


class FileSource(DataSource):
    """Splits read from files, relative to the data directory unless absolute.

    Args:
        description: Short name for messages.
        train_file: Training file.
        train_schema: How to read it.
        val_file: Validation file, or ``None``.
        val_schema: How to read the validation file (``None``: as the training file).
        test_file: Test file, or ``None``.
        test_schema: How to read the test file (``None``: as the training file).
        val_fraction: Fraction of the training rows held out for validation (only without ``val_file``).
        label_names: Fixed class names (class-id formats); ``None`` derives them from the training file.
        data_dir: Directory relative paths start from; ``None`` reads ``$LOSSLAB_DATA_DIR``.
    """

    def __init__(
        self,
        description: str,
        train_file: str,
        train_schema: TableSchema,
        val_file: str | None = None,
        val_schema: TableSchema | None = None,
        test_file: str | None = None,
        test_schema: TableSchema | None = None,
        val_fraction: float = 0.0,
        label_names: tuple[str, ...] | None = None,
        data_dir: str | None = None,
    ) -> None:
        self.description = description
        self.train_schema = train_schema
        self.files: dict[str, str | None] = {"train": train_file, "val": val_file, "test": test_file}
        self.schemas = {"train": train_schema, "val": val_schema or train_schema, "test": test_schema or train_schema}
        self.val_fraction = val_fraction
        self.label_names = label_names
        self.data_dir = data_dir
        self._check_val_fraction()

    def has_split(self, split: Split) -> bool:
        """Whether a file is configured for ``split``."""
        return self.files[split] is not None

    def schema(self, split: Split) -> TableSchema:
        """How the file of ``split`` is read."""
        return self.schemas[split]

    def paths(self) -> dict[str, Path]:
        """Resolved paths of the configured files, keyed ``train``/``val``/``test``.

        The data directory is only required when some path is relative.
        """
        files = {k: Path(v).expanduser() for k, v in self.files.items() if v is not None}
        if all(p.is_absolute() for p in files.values()):
            return files
        root = resolve_data_dir(self.data_dir)
        return {k: p if p.is_absolute() else root / p for k, p in files.items()}

    def prepare(self) -> None:
        """Fail fast on missing files (nothing is downloaded)."""
        for split, path in self.paths().items():
            if not path.is_file():
                raise DataValidationError(f"{path}: {split} file not found")

    def load(self, split: Split, label_names: list[str] | None) -> TextDataset:
        """Read and validate the file of ``split``."""
        return self.schemas[split].load(self.paths()[split], label_names)
