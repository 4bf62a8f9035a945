"""Per-pair cosine similarities of local STS tasks, from MTEB's own prediction files, as CSV.

The report's bootstrap confidence intervals resample pairs, so they need each pair's gold score and the
model's cosine, not only the task's Spearman. MTEB writes the cosines it scored with
(``<task>_predictions.json`` when ``mteb.evaluate`` gets a ``prediction_folder``); this module turns them
into ``<output_dir>/per_pair/<TaskName>.csv`` with ``pair_index,gold,cosine``, one row per test pair in the
test split's order.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from mteb.abstasks.abstask import AbsTask
from mteb.abstasks.sts import AbsTaskSTS

from experiments.atomic_io import atomic_write_text
from experiments.evaluation.local_tasks import LocalDataMixin

PER_PAIR_DIR = "per_pair"
_SPLIT, _SUBSET = "test", "default"


def has_per_pair_scores(task: AbsTask) -> bool:
    """Whether ``task`` is a local STS task (its per-pair cosines are written)."""
    return isinstance(task, AbsTaskSTS) and isinstance(task, LocalDataMixin)


def per_pair_path(output_dir: Path, task_name: str) -> Path:
    """``<output_dir>/per_pair/<task_name>.csv``."""
    return output_dir / PER_PAIR_DIR / f"{task_name}.csv"


def write_per_pair_scores(task: AbsTask, prediction_folder: Path, output_dir: Path) -> Path:
    """Write one local STS task's ``pair_index,gold,cosine`` CSV (atomically) from MTEB's predictions.

    Args:
        task: The evaluated task (its data loaded).
        prediction_folder: The folder given to ``mteb.evaluate(prediction_folder=...)``.
        output_dir: The evaluation's output directory.

    Returns:
        The CSV written.

    Raises:
        ValueError: If MTEB's predictions do not cover the test split pair for pair.
    """
    name = task.metadata.name
    predictions = json.loads((prediction_folder / task.prediction_file_name).read_text(encoding="utf-8"))
    cosines = [float(c) for c in predictions[_SUBSET][_SPLIT]["cosine_scores"]]
    gold = [float(s) for s in task.dataset[_SPLIT]["score"]]  # type: ignore[index]
    if len(cosines) != len(gold):
        raise ValueError(f"{name}: MTEB scored {len(cosines)} pairs but the test split has {len(gold)}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["pair_index", "gold", "cosine"])
    writer.writerows((i, repr(g), repr(c)) for i, (g, c) in enumerate(zip(gold, cosines, strict=True)))
    return atomic_write_text(per_pair_path(output_dir, name), buffer.getvalue())
