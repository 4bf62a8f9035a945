"""A DataModule over a Hugging Face ``datasets`` dataset: a Hub id, or a directory saved to disk."""

from __future__ import annotations

import os
from pathlib import Path

import datasets

from core.model_resolution import DEFAULT_MODEL
from core.sentence_embedder import SentenceEmbedder
from datamodules.conversions import ConversionName
from datamodules.data_source import DATA_DIR_ENV, DataSource
from datamodules.distillation import DistillTarget
from datamodules.embedding_datamodule import EmbeddingDataModule
from datamodules.errors import DataValidationError
from datamodules.noisy_text_dataset import NoiseName
from datamodules.sampler_choice import SamplerName
from datamodules.source_format import parse_source_format
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


class HFDatasetDataModule(EmbeddingDataModule):
    """Train on a Hugging Face dataset, validated like a local file.

    Each split is turned into the same table a local file gives (class labels of ``ClassLabel`` columns
    become their names) and checked by the same schema as :class:`LocalFileDataModule`: ``format``,
    ``columns``, ``score_range`` and every error message (naming the split and row) are the same.

    ``path`` is a directory written by ``Dataset.save_to_disk`` / ``DatasetDict.save_to_disk`` (as given,
    or relative to ``data_dir``), else a Hub dataset id, downloaded in ``prepare_data``. Offline
    (``HF_HUB_OFFLINE=1`` or ``HF_DATASETS_OFFLINE=1``) a Hub id is an error: save the dataset on a
    machine that is online, ``datasets.load_dataset("sentence-transformers/all-nli", "triplet")
    .save_to_disk("all_nli")``, and pass the directory. A directory saved from a single ``Dataset`` holds
    only the training split.

    Example YAML::

        data:
          class_path: datamodules.hf_dataset_datamodule.HFDatasetDataModule
          init_args:
            path: sentence-transformers/stsb
            format: scored_pair
            val_split: validation
            test_split: test
            score_range: [0, 1]

    Args:
        path: Directory saved with ``save_to_disk``, or a Hub dataset id (``owner/name``).
        format: Format of the rows, as for :class:`LocalFileDataModule` (``scored_pair``, ``triplet``,
            ``multi_negative``, ``nli``, ...).
        name: Hub configuration (subset) name, e.g. ``triplet`` of ``sentence-transformers/all-nli``.
        revision: Hub revision (branch, tag or commit) to pin.
        train_split: Split to train on.
        val_split: Split to validate on, or ``None``.
        test_split: Split to test on, or ``None``.
        columns: Format field → dataset column, for fields named differently in the dataset (as for
            :class:`LocalFileDataModule`; ``negative`` of ``multi_negative`` may map to a list).
        score_range: Inclusive (low, high) every score must lie in; also the range ``normalize_scores`` maps.
        normalize_scores: Map scores from ``score_range`` to [0, 1] (CosineSimilarityLoss); keep raw
            scores for CoSENT/AnglE.
        label_names: Fixed class names (class-id formats): labels outside them are errors; ``None`` takes
            the sorted distinct training labels.
        drop_duplicates: Drop exact duplicate rows instead of only warning about them.
        conversion: Named conversion of the training rows (see ``datamodules.conversions``).
        score_threshold: Threshold on the raw score scale for ``scored_to_*`` conversions.
        noise: ``token_deletion``: TSDAE noise on single-sentence training rows (redrawn every epoch, seeded).
        deletion_ratio: Probability of deleting each word under ``noise``.
        distill: ``embeddings`` (single sentences → teacher embeddings, MSELoss) or ``margins`` (triplets →
            teacher margins, MarginMSELoss).
        teacher: The model that labels rows for ``distill`` and finds the negatives of
            ``labels_to_hard_triplets`` (any ``SentenceEmbedder``, e.g.
            ``lightning_modules.encoders.teacher_encoder.TeacherEncoder``); its embeddings are computed once,
            at setup, and cached on disk. Required by those options only.
        teacher_cache_dir: Cache directory of teacher embeddings (``None``: ``$LOSSLAB_CACHE_DIR`` or
            ``~/.cache/losslab``).
        tokenizer: Tokenizer name or path (linked to the encoder by the CLI).
        max_seq_length: Truncation length in tokens (linked to the encoder by the CLI).
        batch_size: Training batch size.
        eval_batch_size: Validation/test batch size.
        num_workers: DataLoader worker processes.
        seed: Seed of conversions and per-epoch sampling.
        sampler: ``auto`` (what the loss needs), ``random``, ``pk`` or ``no_duplicates``.
        samples_per_label: K of P×K sampling.
        group_by_length: Group similar lengths into batches (random sampler only).
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
        normalize_scores: bool = False,
        label_names: list[str] | None = None,
        drop_duplicates: bool = False,
        conversion: ConversionName | None = None,
        score_threshold: float | None = None,
        noise: NoiseName | None = None,
        deletion_ratio: float = 0.6,
        distill: DistillTarget | None = None,
        teacher: SentenceEmbedder | None = None,
        teacher_cache_dir: str | None = None,
        tokenizer: str = DEFAULT_MODEL,
        max_seq_length: int = 256,
        batch_size: int = 32,
        eval_batch_size: int = 64,
        num_workers: int = 0,
        seed: int = 42,
        sampler: SamplerName = "auto",
        samples_per_label: int = 2,
        group_by_length: bool = False,
        data_dir: str | None = None,
    ) -> None:
        if not path:
            raise ValueError("path='': expected a Hub dataset id or a directory saved with save_to_disk")
        schema = TableSchema(
            format=parse_source_format(format),
            columns=dict(columns or {}),
            score_range=None if score_range is None else (float(score_range[0]), float(score_range[1])),
            drop_duplicates=drop_duplicates,
        )
        # The source's "files" are split names here; _load_split reads them from the dataset.
        source = DataSource(
            description=path if name is None else f"{path} ({name})",
            train_file=train_split,
            train_schema=schema,
            val_file=val_split,
            test_file=test_split,
            label_names=None if label_names is None else tuple(label_names),
        )
        self.path = path
        self.name = name
        self.revision = revision
        self._splits: dict[str, datasets.Dataset] | None = None
        super().__init__(
            source=source,
            tokenizer=tokenizer,
            max_seq_length=max_seq_length,
            batch_size=batch_size,
            eval_batch_size=eval_batch_size,
            num_workers=num_workers,
            seed=seed,
            sampler=sampler,
            samples_per_label=samples_per_label,
            group_by_length=group_by_length,
            data_dir=data_dir,
            conversion=conversion,
            score_threshold=score_threshold,
            normalize_scores=normalize_scores,
            noise=noise,
            deletion_ratio=deletion_ratio,
            distill=distill,
            teacher=teacher,
            teacher_cache_dir=teacher_cache_dir,
        )

    def prepare_data(self) -> None:
        """Download a Hub dataset (nothing for a saved directory) and check the configured splits exist."""
        for split in ("train", "val", "test"):
            if self._split_name(split) is not None:
                self._split(split)

    def _split_name(self, split: str) -> str | None:
        return {"train": self.source.train_file, "val": self.source.val_file, "test": self.source.test_file}[split]

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
            return {self._split_name("train"): loaded} if isinstance(loaded, datasets.Dataset) else dict(loaded)
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

    def _split(self, split: str) -> datasets.Dataset:
        if self._splits is None:
            self._splits = self._load()
        split_name = self._split_name(split)
        if split_name not in self._splits:
            raise DataValidationError(
                f"{self.source.description}: no split {split_name!r} ({_SPLIT_ARGS[split]}); "
                f"available splits: {sorted(self._splits)}"
            )
        return self._splits[split_name]

    def _load_split(self, split: str, schema: TableSchema, label_names: list[str] | None) -> TextDataset:
        """Turn the split into a table like a local file's and validate it with ``schema``."""
        dataset = self._split(split)
        wanted = dict.fromkeys(column for _, column in schema.field_columns(dataset.column_names))
        dataset = dataset.select_columns([column for column in wanted if column in dataset.column_names])
        table = dataset.to_pandas()
        for column, feature in dataset.features.items():
            if isinstance(feature, datasets.ClassLabel):
                # Class names, as in a file; an id outside them (-1: unlabeled) is left for validation to report.
                table[column] = [feature.names[v] if 0 <= v < feature.num_classes else v for v in table[column]]
        return schema.validate(table, f"{self.source.description} [{self._split_name(split)}]", label_names)
