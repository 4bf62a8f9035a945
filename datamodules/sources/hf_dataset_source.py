"""A Hugging Face ``datasets`` dataset as a data source: a Hub id, or a directory saved to disk."""

from __future__ import annotations

import os
from pathlib import Path

import datasets

from datamodules.errors import DataValidationError
from datamodules.sources.data_source import DATA_DIR_ENV, DataSource, Split
from datamodules.table_schema import TableSchema
from datamodules.text_dataset import TextDataset

_OFFLINE_ENV = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
_TRUE = ("1", "ON", "YES", "TRUE")
_SPLIT_ARGS = {"train": "train_split", "val": "val_split", "test": "test_split"}


def hub_offline() -> bool:
    """Whether Hugging Face downloads are switched off (``HF_HUB_OFFLINE`` / ``HF_DATASETS_OFFLINE``).

    The environment is read too, not only ``datasets.config``, which freezes it at import time.
    """
    from_env = any(os.environ.get(name, "").upper() in _TRUE for name in _OFFLINE_ENV)
    return from_env or bool(datasets.config.HF_HUB_OFFLINE)


class HFDatasetSource(DataSource):
    """Train on a Hugging Face dataset, validated like a local file.

    Each split is turned into the same table a local file gives (class labels of ``ClassLabel`` columns
    become their names) and checked by the same schema as :class:`LocalFileSource`: ``format``,
    ``columns``, ``score_range`` and every error message (naming the split and row) are the same.

    ``path`` is a directory written by ``Dataset.save_to_disk`` / ``DatasetDict.save_to_disk`` (as given,
    or relative to ``data_dir``), else a Hub dataset id, downloaded in ``prepare``. Offline
    (``HF_HUB_OFFLINE=1`` or ``HF_DATASETS_OFFLINE=1``) a Hub id is an error: save the dataset on a
    machine that is online, ``datasets.load_dataset("sentence-transformers/all-nli", "triplet")
    .save_to_disk("all_nli")``, and pass the directory. A directory saved from a single ``Dataset`` holds
    only the training split.

    Example YAML::

        data:
          source:
            class_path: datamodules.sources.HFDatasetSource
            init_args:
              path: sentence-transformers/stsb
              format: scored_pair
              val_split: validation
              test_split: test
              score_range: [0, 1]

    Args:
        path: Directory saved with ``save_to_disk``, or a Hub dataset id (``owner/name``).
        format: Format of the rows, as for :class:`LocalFileSource` (``scored_pair``, ``triplet``,
            ``multi_negative``, ``nli``, ...).
        name: Hub configuration (subset) name, e.g. ``triplet`` of ``sentence-transformers/all-nli``.
        revision: Hub revision (branch, tag or commit) to pin.
        train_split: Split to train on.
        val_split: Split to validate on, or ``None``.
        test_split: Split to test on, or ``None``.
        columns: Format field → dataset column, for fields named differently in the dataset (as for
            :class:`LocalFileSource`; ``negative`` of ``multi_negative`` may map to a list).
        score_range: Inclusive (low, high) every score must lie in; also the range ``normalize_scores`` maps.
        val_fraction: Fraction of the training split held out for validation when there is no ``val_split``.
        label_names: Fixed class names (class-id formats): labels outside them are errors; ``None`` takes
            the sorted distinct training labels.
        drop_duplicates: Drop exact duplicate rows instead of only warning about them.
        data_dir: Directory a relative ``path`` is looked up in first; ``None`` reads ``$LOSSLAB_DATA_DIR``.
    """

    def __init__(
        self,
        path: str,
        format: str,
        name: str | None = None,
        revision: str | None = None,
        train_split: str = "train",
        val_split: str | None = None,
        test_split: str | None = None,
        columns: dict[str, str | list[str]] | None = None,
        score_range: tuple[float, float] | None = None,
        val_fraction: float = 0.0,
        label_names: list[str] | None = None,
        drop_duplicates: bool = False,
        data_dir: str | None = None,
    ) -> None:
        if not path:
            raise ValueError("path='': expected a Hub dataset id or a directory saved with save_to_disk")
        self.train_schema = TableSchema.from_options(format, columns, score_range, drop_duplicates)
        self.description = path if name is None else f"{path} ({name})"
        self.path = path
        self.name = name
        self.revision = revision
        self.split_names: dict[str, str | None] = {"train": train_split, "val": val_split, "test": test_split}
        self.val_fraction = val_fraction
        self.label_names = None if label_names is None else tuple(label_names)
        self.data_dir = data_dir
        self._splits: dict[str, datasets.Dataset] | None = None
        self._check_val_fraction()

    def has_split(self, split: Split) -> bool:
        """Whether a split name is configured for ``split``."""
        return self.split_names[split] is not None

    def prepare(self) -> None:
        """Download a Hub dataset (nothing for a saved directory) and check the configured splits exist."""
        for split in ("train", "val", "test"):
            if self.has_split(split):
                self._split(split)

    def _local_dir(self) -> Path | None:
        """The saved directory ``path`` names (as given, else under the data directory), or ``None``."""
        given = Path(self.path).expanduser()
        if given.is_dir():
            return given
        root = self.data_dir or os.environ.get(DATA_DIR_ENV)
        if root and not given.is_absolute() and (Path(root).expanduser() / given).is_dir():
            return Path(root).expanduser() / given
        return None

    def _load(self) -> dict[str, datasets.Dataset]:
        directory = self._local_dir()
        if directory is not None:
            if self.name is not None or self.revision is not None:
                raise DataValidationError(
                    f"path={self.path!r} is a saved directory ({directory}); name and revision only apply to "
                    "Hub datasets: remove them"
                )
            try:
                loaded = datasets.load_from_disk(str(directory))
            except FileNotFoundError as err:
                raise DataValidationError(f"path={self.path!r}: {err}; save it with save_to_disk") from None
            return {self.split_names["train"]: loaded} if isinstance(loaded, datasets.Dataset) else dict(loaded)
        if Path(self.path).expanduser().is_absolute() or self.path.startswith((".", "~")):
            raise DataValidationError(f"path={self.path!r}: directory not found")
        if hub_offline():
            raise DataValidationError(
                f"path={self.path!r} is not a saved directory, and Hub dataset {self.path!r} cannot be downloaded "
                f"offline (HF_HUB_OFFLINE / HF_DATASETS_OFFLINE is set): save it with "
                f"datasets.load_dataset({self.path!r}).save_to_disk(DIR) where you are online and pass path=DIR, "
                "or go online"
            )
        return dict(datasets.load_dataset(self.path, self.name, revision=self.revision))

    def _split(self, split: Split) -> datasets.Dataset:
        if self._splits is None:
            self._splits = self._load()
        split_name = self.split_names[split]
        if split_name not in self._splits:
            raise DataValidationError(
                f"{self.description}: no split {split_name!r} ({_SPLIT_ARGS[split]}); "
                f"available splits: {sorted(self._splits)}"
            )
        return self._splits[split_name]

    def load(self, split: Split, label_names: list[str] | None) -> TextDataset:
        """Turn the split into a table like a local file's and validate it with the schema."""
        schema = self.schema(split)
        dataset = self._split(split)
        wanted = dict.fromkeys(column for _, column in schema.field_columns(dataset.column_names))
        dataset = dataset.select_columns([column for column in wanted if column in dataset.column_names])
        table = dataset.to_pandas()
        for column, feature in dataset.features.items():
            if isinstance(feature, datasets.ClassLabel):
                # Class names, as in a file; an id outside them (-1: unlabeled) is left for validation to report.
                table[column] = [feature.names[v] if 0 <= v < feature.num_classes else v for v in table[column]]
        return schema.validate(table, f"{self.description} [{self.split_names[split]}]", label_names)
