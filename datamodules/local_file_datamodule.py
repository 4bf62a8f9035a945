"""A DataModule over any local CSV / TSV / JSONL / Parquet files."""

from __future__ import annotations

from pathlib import Path

from core.model_resolution import DEFAULT_MODEL
from core.sentence_embedder import SentenceEmbedder
from datamodules.conversions import ConversionName
from datamodules.data_source import DataSource
from datamodules.distillation import DistillTarget
from datamodules.embedding_datamodule import EmbeddingDataModule
from datamodules.noisy_text_dataset import NoiseName
from datamodules.sampler_choice import SamplerName
from datamodules.source_format import parse_source_format
from datamodules.table_schema import TableSchema


class LocalFileDataModule(EmbeddingDataModule):
    """Train on your own files: declare their format and which columns hold which field.

    Example YAML::

        data:
          class_path: datamodules.LocalFileDataModule
          init_args:
            train_file: stsb/train.csv
            val_file: stsb/dev.csv
            format: scored_pair
            columns: {label: score}
            score_range: [0, 5]

    Args:
        train_file: Training file (``.csv``, ``.tsv``, ``.jsonl``, ``.parquet``), relative to ``data_dir``
            unless absolute.
        format: Format of the rows: a batch format value (``labeled``, ``scored_pair``, ``binary_pair``,
            ``pair``, ``triplet``, ``multi_negative``, ``single``, ...) or ``nli`` (premise, hypothesis,
            entailment/neutral/contradiction; needs an ``nli_*`` conversion).
        val_file: Validation file in the same format, or ``None``.
        test_file: Test file in the same format, or ``None``.
        columns: Format field → file column, for fields named differently in the file. Fields are the
            format's text columns (e.g. ``sentence1``, ``sentence2``) plus ``label``; the label defaults to
            the column ``score`` for scored pairs and ``label`` otherwise. ``multi_negative`` (anchor, positive,
            several negatives) reads ``negative_1, negative_2, ...`` as found in the file, or the list of
            columns ``negative`` maps to, e.g. ``{negative: [hard_neg, random_neg]}``.
        score_range: Inclusive (low, high) every score must lie in; also the range ``normalize_scores`` maps.
        normalize_scores: Map scores from ``score_range`` to [0, 1] (CosineSimilarityLoss); keep raw
            scores for CoSENT/AnglE.
        val_split: Fraction of the training file held out (seeded, stratified by class) for validation
            when there is no ``val_file``.
        label_names: Fixed class names (class-id formats): labels outside them are errors; ``None`` takes
            the sorted distinct training labels. Kept for reports.
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
        seed: Seed of splits, conversions and per-epoch sampling.
        sampler: ``auto`` (what the loss needs), ``random``, ``pk`` or ``no_duplicates``.
        samples_per_label: K of P×K sampling.
        group_by_length: Group similar lengths into batches (random sampler only).
        data_dir: Directory relative paths start from; ``None`` reads ``$LOSSLAB_DATA_DIR``.
    """

    def __init__(
        self,
        train_file: str,
        format: str,
        val_file: str | None = None,
        test_file: str | None = None,
        columns: dict[str, str | list[str]] | None = None,
        score_range: tuple[float, float] | None = None,
        normalize_scores: bool = False,
        val_split: float = 0.0,
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
        schema = TableSchema(
            format=parse_source_format(format),
            columns=dict(columns or {}),
            score_range=None if score_range is None else (float(score_range[0]), float(score_range[1])),
            drop_duplicates=drop_duplicates,
        )
        source = DataSource(
            description=Path(train_file).name,
            train_file=train_file,
            train_schema=schema,
            val_file=val_file,
            test_file=test_file,
            val_split=val_split,
            label_names=None if label_names is None else tuple(label_names),
        )
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
