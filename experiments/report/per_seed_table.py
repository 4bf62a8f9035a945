"""The per-seed table (``per_seed.csv``): one row per loss, seed and task; every statistic is computed from it."""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from experiments.report.results_loader import RunResult, load_run

BASELINE = "baseline"
COST_PREFIX = "cost/"
PER_SEED_COLUMNS = ("loss", "seed", "task", "score", "run_dir", "stage", "git_commit", "git_dirty")
Stage = Literal["before", "after"]


@dataclass(frozen=True)
class LabelledRun:
    """A finished run and the leaderboard row it belongs to.

    Args:
        loss: The row label (a grid's axis labels joined by spaces, or the study's loss label).
        result: The run.
    """

    loss: str
    result: RunResult


@dataclass(frozen=True)
class BaselineSource:
    """Where the untouched encoder's scores come from.

    Args:
        result: The run that holds them.
        stage: ``before``: its ``metrics.json`` ``before`` scores (``evaluation.before_fit``); ``after``: its
            ``test`` scores (a run directory made for the baseline, e.g. with ``--trainer.max_steps 0``).
    """

    result: RunResult
    stage: Stage

    @property
    def scores(self) -> dict[str, float]:
        """Task -> main score (×100)."""
        return self.result.before if self.stage == "before" else self.result.test


def resolve_baseline(runs: Sequence[RunResult], baseline_run: Path | None) -> BaselineSource | None:
    """The baseline: a designated run directory, else the first run (in order) with ``before`` scores.

    A designated directory's ``before`` scores are used when it has them, else its ``test`` scores. Every run's
    ``before`` scores are those of the same untouched encoder, so one run's are the baseline's.

    Raises:
        ValueError: If ``baseline_run`` is not a finished run or holds no scores.
    """
    if baseline_run is not None:
        result = load_run(baseline_run)
        if result is None:
            raise ValueError(f"--baseline-run {baseline_run}: expected a finished run directory (with metrics.json)")
        if not result.before and not result.test:
            raise ValueError(f"--baseline-run {baseline_run}: metrics.json has neither 'before' nor 'test' scores")
        return BaselineSource(result, "before" if result.before else "after")
    return next((BaselineSource(r, "before") for r in runs if r.before), None)


def run_dir_path(report_dir: Path, run_dir: str) -> Path:
    """The run directory a ``run_dir`` entry names (relative to ``report_dir``, which need not exist yet)."""
    return Path(os.path.normpath(report_dir.resolve() / run_dir))  # lexical: "x/../y" fails when x is missing


def _rows(loss: str, result: RunResult, seed: int | None, scores: dict[str, float], stage: Stage, base: Path) -> list:
    run_dir = os.path.relpath(result.run_dir.resolve(), base.resolve())
    dirty = None if result.git_dirty is None else int(result.git_dirty)
    return [(loss, seed, task, score, run_dir, stage, result.git_commit, dirty) for task, score in scores.items()]


def per_seed_table(
    runs: Sequence[LabelledRun], tasks: Sequence[str], baseline: BaselineSource | None, report_dir: Path
) -> pd.DataFrame:
    """The long table: MTEB tasks, the validation metric (``val/...``) and costs (``cost/...``) per run.

    Args:
        runs: The runs, labelled with their leaderboard row.
        tasks: The MTEB tasks to keep (others a run may have are left out).
        baseline: The untouched encoder's scores (row label :data:`BASELINE`, no seed), or ``None``.
        report_dir: ``run_dir`` is stored relative to it, so a report links and finds its runs portably.

    Raises:
        ValueError: If two runs have the same loss and seed (seeds pair runs across losses), or a loss is
            labelled :data:`BASELINE`.
    """
    rows: list[tuple] = []
    seen: dict[tuple[str, int | None], Path] = {}
    for run in runs:
        result = run.result
        if run.loss == BASELINE:
            raise ValueError(f"{result.run_dir}: the label {BASELINE!r} is reserved for the untouched encoder's row")
        key = (run.loss, result.seed)
        if key in seen:
            raise ValueError(
                f"{result.run_dir} and {seen[key]}: both are loss {run.loss!r} seed {result.seed}; "
                "expected one run per loss and seed (seeds pair runs across losses)"
            )
        seen[key] = result.run_dir
        scores = {task: result.test[task] for task in tasks if task in result.test}
        if result.val_metric is not None and result.best_val is not None:
            scores[result.val_metric] = result.best_val
        scores.update({COST_PREFIX + name: value for name, value in result.costs.items()})
        rows += _rows(run.loss, result, result.seed, scores, "after", report_dir)
    if baseline is not None:
        scores = {task: baseline.scores[task] for task in tasks if task in baseline.scores}
        rows += _rows(BASELINE, baseline.result, None, scores, baseline.stage, report_dir)
    table = pd.DataFrame(rows, columns=list(PER_SEED_COLUMNS))
    table["seed"] = table["seed"].astype("Int64")
    table["git_dirty"] = table["git_dirty"].astype("Int64")
    return table


def to_csv(table: pd.DataFrame) -> str:
    """``per_seed.csv``: scores at full precision (``repr``), so reading it back gives the same floats."""
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def read_per_seed(path: Path) -> pd.DataFrame:
    """Read ``per_seed.csv`` back (the inverse of :func:`to_csv`).

    Raises:
        ValueError: If a column is missing or a score is not a number.
    """
    table = pd.read_csv(path, dtype={"loss": str, "task": str, "run_dir": str, "stage": str, "git_commit": str})
    missing = [c for c in PER_SEED_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}; expected {list(PER_SEED_COLUMNS)}")
    for row, score in enumerate(table["score"], start=2):
        if not isinstance(score, float) or math.isnan(score):
            raise ValueError(f"{path}: row {row}, column score: expected a number, got {score!r}")
    table["seed"] = table["seed"].astype("Int64")
    table["git_dirty"] = table["git_dirty"].astype("Int64")
    return table[list(PER_SEED_COLUMNS)]
