"""Declarations of the built-in datasets of the data directory (``/work/shared/data`` layout).

Choices worth knowing:

* ``snli_*``: the SNLI train set is not in the data directory, so training uses the SNLI **dev** split
  (pairs or the prebuilt dev triplets) and validation the **test** triplets (triplet accuracy).
* ``banking77`` / ``trec*``: there is no dev split; validation is a seeded, stratified 10% of train, so
  ``test.csv`` stays untouched for final numbers (MTEB's Banking77Classification tests on it).
* ``sick``: validation is the official trial split; scores are 1–5. ``stsb`` scores are 0–5; both are
  kept raw unless ``normalize_scores`` is set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from core.batch_formats import BatchFormat
from datamodules.source_format import NLI, SourceFormat

DatasetName = Literal["stsb", "sick", "trec", "trec_fine", "banking77", "msrp", "snli_pairs", "snli_triplets"]


@dataclass(frozen=True)
class DatasetSpec:
    """One built-in dataset.

    Attributes:
        name: Its name in configs.
        format: Natural format of the training file.
        train_file: Training file, relative to the data directory.
        val_file: Validation file, or ``None`` (then ``val_fraction`` applies).
        test_file: Test file, or ``None``.
        columns: Format field → file column, where they differ.
        score_range: Declared score range (scored pairs).
        val_fraction: Fraction of train held out for validation when there is no ``val_file``.
        val_format: Format of ``val_file`` when it differs from ``format`` (read with default columns).
    """

    name: str
    format: SourceFormat
    train_file: str
    val_file: str | None = None
    test_file: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    score_range: tuple[float, float] | None = None
    val_fraction: float = 0.0
    val_format: BatchFormat | None = None


CATALOG: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "stsb",
            BatchFormat.SCORED_PAIR,
            "stsb/train.csv",
            "stsb/dev.csv",
            "stsb/test.csv",
            score_range=(0.0, 5.0),
        ),
        DatasetSpec(
            "sick",
            BatchFormat.SCORED_PAIR,
            "sick/train.csv",
            "sick/trial.csv",
            "sick/test.csv",
            score_range=(1.0, 5.0),
        ),
        DatasetSpec(
            "trec",
            BatchFormat.LABELED,
            "trec/train.csv",
            None,
            "trec/test.csv",
            {"label": "coarse_label"},
            val_fraction=0.1,
        ),
        DatasetSpec("trec_fine", BatchFormat.LABELED, "trec/train.csv", None, "trec/test.csv", val_fraction=0.1),
        DatasetSpec(
            "banking77", BatchFormat.LABELED, "banking77/train.csv", None, "banking77/test.csv", val_fraction=0.1
        ),
        DatasetSpec("msrp", BatchFormat.BINARY_PAIR, "msrp/train.csv", "msrp/val.csv", "msrp/test.csv"),
        DatasetSpec(
            "snli_pairs",
            NLI,
            "snli/dev.csv",
            "snli/test_triplets.csv",
            columns={"premise": "sentence1", "hypothesis": "sentence2"},
            val_format=BatchFormat.TRIPLET,
        ),
        DatasetSpec("snli_triplets", BatchFormat.TRIPLET, "snli/dev_triplets.csv", "snli/test_triplets.csv"),
    )
}
