"""Per-pair STS scores (``<run_dir>/mteb/<stage>/per_pair/<Task>.csv``: ``pair_index,gold,cosine``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from experiments.report.per_seed_table import run_dir_path

PAIR_COLUMNS = ("pair_index", "gold", "cosine")
# Per-seed scores come from MTEB's JSON, cosines from the CSV: the two agree up to the CSV's rounding of cosines,
# which can reorder near-equal pairs only (a few hundredths of a Spearman point at most on 1,000+ pairs).
SCORE_TOLERANCE = 0.05


@dataclass(frozen=True)
class TaskPairs:
    """One STS task's test pairs, for every run that has a per-pair file.

    Args:
        task: MTEB task name.
        gold: Gold similarity per pair, in ``pair_index`` order (the same for every run).
        cosines: Loss -> one cosine array per seed (aligned with ``gold``), in seed order.
    """

    task: str
    gold: np.ndarray
    cosines: dict[str, list[np.ndarray]]


def pair_file(run_dir: Path, stage: str, task: str) -> Path:
    """Where a run keeps its per-pair scores of ``task``."""
    return run_dir / "mteb" / stage / "per_pair" / f"{task}.csv"


def spearman_x100(gold: np.ndarray, cosine: np.ndarray) -> float:
    """The STS main score: 100 × Spearman(gold, cosine), as MTEB computes it (``scipy.stats.spearmanr``)."""
    return 100.0 * float(stats.spearmanr(gold, cosine).statistic)


def read_pair_file(path: Path) -> pd.DataFrame:
    """One per-pair file, sorted by ``pair_index``.

    Raises:
        ValueError: If a column is missing, a value is not a number, or ``pair_index`` repeats.
    """
    frame = pd.read_csv(path)
    missing = [c for c in PAIR_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}; expected {','.join(PAIR_COLUMNS)}")
    for column in PAIR_COLUMNS:
        values = pd.to_numeric(frame[column], errors="coerce")
        if values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0]) + 2
            raise ValueError(
                f"{path}: row {row}, column {column}: expected a number, got {frame[column].iloc[row - 2]!r}"
            )
        frame[column] = values
    if frame["pair_index"].duplicated().any():
        raise ValueError(
            f"{path}: pair_index {int(frame['pair_index'][frame['pair_index'].duplicated()].iloc[0])} "
            "repeats; expected one row per test pair"
        )
    if len(frame) < 3:
        raise ValueError(f"{path}: {len(frame)} pairs; expected at least 3 for a Spearman correlation")
    return frame.sort_values("pair_index", ignore_index=True)


def load_task_pairs(table: pd.DataFrame, task: str, report_dir: Path) -> TaskPairs | None:
    """The per-pair files of ``task`` for the losses whose every seed has one.

    Args:
        table: The per-seed table (``run_dir`` relative to ``report_dir``, ``stage``, ``score``).
        task: The task.
        report_dir: What ``run_dir`` is relative to.

    Returns:
        The pairs, or ``None`` when no loss has per-pair files for every seed.

    Raises:
        ValueError: If files of one task disagree on the pairs or their gold scores, or a file's Spearman
            differs from the run's recorded score by more than :data:`SCORE_TOLERANCE`.
    """
    rows = table[table["task"] == task].sort_values(["loss", "seed"], na_position="first")
    gold: np.ndarray | None = None
    index: np.ndarray | None = None
    reference: Path | None = None
    cosines: dict[str, list[np.ndarray]] = {}
    for loss, group in rows.groupby("loss", sort=False):
        paths = [pair_file(run_dir_path(report_dir, r.run_dir), r.stage, task) for r in group.itertuples()]
        if not all(path.is_file() for path in paths):
            continue
        arrays = []
        for path, score in zip(paths, group["score"], strict=True):
            frame = read_pair_file(path)
            if gold is None:
                gold, index, reference = frame["gold"].to_numpy(), frame["pair_index"].to_numpy(), path
            elif not np.array_equal(frame["pair_index"].to_numpy(), index):
                raise ValueError(
                    f"{path}: its pair_index values differ from {reference}'s; expected the same test pairs"
                )
            elif not np.allclose(frame["gold"].to_numpy(), gold, rtol=0.0, atol=1e-6):
                raise ValueError(f"{path}: its gold scores differ from {reference}'s; expected the same test pairs")
            recomputed = spearman_x100(gold, frame["cosine"].to_numpy())
            if abs(recomputed - float(score)) > SCORE_TOLERANCE:
                raise ValueError(
                    f"{path}: 100 x Spearman(gold, cosine) = {recomputed:.4f}, but the run records {task} = "
                    f"{float(score):.4f}; expected the per-pair file of the same evaluation"
                )
            arrays.append(frame["cosine"].to_numpy(dtype=float))
        cosines[str(loss)] = arrays
    if gold is None:
        return None
    return TaskPairs(task, gold.astype(float), cosines)


def load_pairs(table: pd.DataFrame, tasks: Sequence[str], report_dir: Path) -> dict[str, TaskPairs]:
    """:func:`load_task_pairs` for each task that has per-pair files."""
    loaded = {task: load_task_pairs(table, task, report_dir) for task in tasks}
    return {task: pairs for task, pairs in loaded.items() if pairs is not None}
