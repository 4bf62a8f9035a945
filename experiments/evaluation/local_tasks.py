"""MTEB's own task classes with their data read from local CSV files instead of the Hub.

Each class keeps its MTEB parent's metadata (name, splits, main score, dataset revision), so metrics,
protocol and result JSON are exactly MTEB's; only ``load_data`` differs.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, ClassVar

from datasets import Dataset, DatasetDict
from mteb.abstasks.clustering import AbsTaskClustering
from mteb.abstasks.pair_classification import AbsTaskPairClassification
from mteb.abstasks.sts import AbsTaskSTS
from mteb.abstasks.task_metadata import TaskMetadata
from mteb.tasks.classification.eng.banking77_classification import Banking77Classification
from mteb.tasks.sts.eng.sickr_sts import SickrSTS
from mteb.tasks.sts.eng.sts_benchmark_sts import STSBenchmarkSTS

from experiments.evaluation.errors import InvalidArgumentError, MissingTaskDataError


def read_csv_columns(path: Path, columns: tuple[str, ...]) -> dict[str, list[str]]:
    """Read the named columns of a headed CSV file as strings.

    Raises:
        MissingTaskDataError: If the file does not exist.
        InvalidArgumentError: If a column is missing.
    """
    if not path.is_file():
        raise MissingTaskDataError(f"missing data file {path}")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise InvalidArgumentError(f"{path} lacks column(s) {missing}; it has {reader.fieldnames}")
        rows = list(reader)
    return {c: [row[c] for row in rows] for c in columns}


class LocalDataMixin:
    """Replaces MTEB's Hub loading with :meth:`build_dataset` over files under ``data_dir``.

    Subclasses list the files they read, relative to the data directory, in ``local_files``.

    Args:
        data_dir: The data directory (holding e.g. ``stsb/test.csv``).
        seed: MTEB's task seed (sub-sampling, classifier and k-means randomness).
    """

    local_files: ClassVar[tuple[str, ...]] = ()

    def __init__(self, data_dir: Path, seed: int = 42) -> None:
        self.data_dir = Path(data_dir)
        super().__init__(seed=seed)  # type: ignore[call-arg]

    @classmethod
    def missing_files(cls, data_dir: Path | None) -> list[Path]:
        """The files this task needs that ``data_dir`` lacks (all of them when there is no data dir)."""
        base = Path(data_dir) if data_dir is not None else Path("<data dir>")
        return [base / name for name in cls.local_files if data_dir is None or not (base / name).is_file()]

    def build_dataset(self) -> DatasetDict:
        """Build the split → ``Dataset`` mapping in the layout the MTEB task expects."""
        raise NotImplementedError

    def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
        """Load the local files (MTEB calls this before evaluating)."""
        if self.data_loaded:  # type: ignore[has-type]
            return
        self.dataset = self.build_dataset()
        self.data_loaded = True


def _scored_pairs(path: Path) -> dict[str, list[Any]]:
    cols = read_csv_columns(path, ("sentence1", "sentence2", "score"))
    return {**cols, "score": [float(s) for s in cols["score"]]}


class LocalSTSBenchmark(LocalDataMixin, STSBenchmarkSTS):
    """MTEB ``STSBenchmark`` (test split, 1,379 pairs) from ``stsb/test.csv``."""

    local_files = ("stsb/test.csv",)

    def build_dataset(self) -> DatasetDict:
        """STS-B test pairs with gold scores."""
        return DatasetDict({"test": Dataset.from_dict(_scored_pairs(self.data_dir / self.local_files[0]))})


class LocalSickR(LocalDataMixin, SickrSTS):
    """MTEB ``SICK-R``: like MTEB, all 9,927 SICK pairs (train + trial + test) form the test split."""

    local_files = ("sick/train.csv", "sick/trial.csv", "sick/test.csv")

    def build_dataset(self) -> DatasetDict:
        """All SICK pairs with relatedness scores."""
        parts = [_scored_pairs(self.data_dir / name) for name in self.local_files]
        merged = {key: [v for part in parts for v in part[key]] for key in parts[0]}
        return DatasetDict({"test": Dataset.from_dict(merged)})


def _banking77_split(data_dir: Path, split: str) -> dict[str, list[Any]]:
    names = (data_dir / "banking77" / "labels.txt").read_text(encoding="utf-8").split("\n")
    ids = {name: i for i, name in enumerate(n for n in names if n)}
    cols = read_csv_columns(data_dir / "banking77" / f"{split}.csv", ("sentence", "label"))
    return {"text": cols["sentence"], "label": [ids[label] for label in cols["label"]]}


class LocalBanking77Classification(LocalDataMixin, Banking77Classification):
    """MTEB ``Banking77Classification`` from ``banking77/{train,test}.csv`` (ids in ``labels.txt`` order)."""

    local_files = ("banking77/train.csv", "banking77/test.csv", "banking77/labels.txt")

    def build_dataset(self) -> DatasetDict:
        """BANKING77 train (for the logistic-regression probe) and test."""
        return DatasetDict(
            {split: Dataset.from_dict(_banking77_split(self.data_dir, split)) for split in ("train", "test")}
        )


def _local_metadata(name: str, description: str, task_type: str, main_score: str) -> TaskMetadata:
    """Metadata of a task that has no MTEB counterpart: the data is local, so there is no Hub revision."""
    return TaskMetadata(
        name=name,
        dataset={"path": f"local/{name}", "revision": "local"},
        description=description,
        reference=None,
        type=task_type,
        category="t2c" if task_type == "Clustering" else "t2t",
        modalities=["text"],
        eval_splits=["test"],
        eval_langs=["eng-Latn"],
        main_score=main_score,
        date=None,
        domains=None,
        task_subtypes=None,
        license=None,
        annotations_creators=None,
        dialect=None,
        sample_creation=None,
        bibtex_citation=None,
    )


class LocalClusteringTask(LocalDataMixin, AbsTaskClustering):
    """MTEB's clustering protocol (bootstrapped mini-batch k-means, V-measure) on a labelled sentence CSV.

    Every test sentence is embedded (no sub-sampling); each of MTEB's 10 k-means runs draws
    ``max_documents_per_cluster`` of them with replacement.
    """

    max_fraction_of_documents_to_embed = None
    max_documents_per_cluster = 2048
    label_column: ClassVar[str] = "label"

    def build_dataset(self) -> DatasetDict:
        """Test sentences with their labels."""
        cols = read_csv_columns(self.data_dir / self.local_files[0], ("sentence", self.label_column))
        return DatasetDict(
            {"test": Dataset.from_dict({"sentences": cols["sentence"], "labels": cols[self.label_column]})}
        )


class Banking77Clustering(LocalClusteringTask):
    """Cluster BANKING77 test queries into their 77 intents."""

    local_files = ("banking77/test.csv",)
    metadata = _local_metadata(
        "Banking77Clustering",
        "Clustering of BANKING77 test queries by intent (77 clusters).",
        "Clustering",
        "v_measure",
    )


class TRECClustering(LocalClusteringTask):
    """Cluster TREC test questions into their 6 coarse classes."""

    local_files = ("trec/test.csv",)
    label_column = "coarse_label"
    metadata = _local_metadata(
        "TRECClustering",
        "Clustering of TREC test questions by coarse class (6 clusters).",
        "Clustering",
        "v_measure",
    )


class MSRPPairClassification(LocalDataMixin, AbsTaskPairClassification):
    """MTEB's pair-classification protocol (max AP over similarity functions) on the MSRP test split."""

    local_files = ("msrp/test.csv",)
    metadata = _local_metadata(
        "MSRPPairClassification",
        "Paraphrase identification on the MSRP test split (1,725 pairs).",
        "PairClassification",
        "max_ap",
    )

    def build_dataset(self) -> DatasetDict:
        """MSRP test pairs with 0/1 labels."""
        cols = read_csv_columns(self.data_dir / self.local_files[0], ("sentence1", "sentence2", "label"))
        return DatasetDict({"test": Dataset.from_dict({**cols, "labels": [int(x) for x in cols.pop("label")]})})


class LocalSTSTask(LocalDataMixin, AbsTaskSTS):
    """Any CSV with ``sentence1, sentence2, score`` columns, scored with MTEB's STS protocol.

    Args:
        csv_path: The CSV file.
        min_score: Lowest possible gold score (for MTEB's normalisation; Spearman does not depend on it).
        max_score: Highest possible gold score.
        seed: MTEB's task seed.
        label: What follows ``LocalSTS-`` in the task name (default: the file's stem); results are filed
            under the task name, so tasks of one evaluation need distinct labels.
    """

    def __init__(
        self,
        csv_path: Path,
        min_score: float = 0.0,
        max_score: float = 5.0,
        seed: int = 42,
        label: str | None = None,
    ) -> None:
        csv_path = Path(csv_path)
        self.local_files = (csv_path.name,)
        self.min_score, self.max_score = min_score, max_score
        name = f"LocalSTS-{label or csv_path.stem}"
        self.metadata = _local_metadata(name, f"STS on {csv_path}", "STS", "cosine_spearman")
        super().__init__(data_dir=csv_path.parent, seed=seed)

    # Per-instance metadata behind a property: MTEB's unload_data pops an instance attribute named
    # ``metadata`` (expecting a class-level one underneath), which would leave this task without a name.
    @property  # type: ignore[override]
    def metadata(self) -> TaskMetadata:
        """This CSV's task metadata (name ``LocalSTS-<label>``)."""
        return self._metadata

    @metadata.setter
    def metadata(self, value: TaskMetadata) -> None:
        self._metadata = value

    def build_dataset(self) -> DatasetDict:
        """The CSV's pairs as the test split."""
        return DatasetDict({"test": Dataset.from_dict(_scored_pairs(self.data_dir / self.local_files[0]))})


LOCAL_TASKS: dict[str, type[LocalDataMixin]] = {
    cls.metadata.name: cls
    for cls in (
        LocalSTSBenchmark,
        LocalSickR,
        LocalBanking77Classification,
        Banking77Clustering,
        TRECClustering,
        MSRPPairClassification,
    )
}
