"""Your own CSV / TSV / JSONL / Parquet files as a data source."""

from __future__ import annotations

from pathlib import Path

from datamodules.sources.file_source import FileSource
from datamodules.table_schema import TableSchema


class LocalFileSource(FileSource):
    """Train on your own files: declare their format and which columns hold which field.

    Example YAML::

        data:
          source:
            class_path: datamodules.sources.LocalFileSource
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
        val_fraction: Fraction of the training file held out (seeded, stratified by class) for validation
            when there is no ``val_file``.
        label_names: Fixed class names (class-id formats): labels outside them are errors; ``None`` takes
            the sorted distinct training labels. Kept for reports.
        drop_duplicates: Drop exact duplicate rows instead of only warning about them.
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
        val_fraction: float = 0.0,
        label_names: list[str] | None = None,
        drop_duplicates: bool = False,
        data_dir: str | None = None,
    ) -> None:
        schema = TableSchema.from_options(format, columns, score_range, drop_duplicates)
        super().__init__(
            description=Path(train_file).name,
            train_file=train_file,
            train_schema=schema,
            val_file=val_file,
            test_file=test_file,
            val_fraction=val_fraction,
            label_names=None if label_names is None else tuple(label_names),
            data_dir=data_dir,
        )
