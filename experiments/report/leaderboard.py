"""A leaderboard: one row per configuration, mean ± std over seeds per task, best marked, ranked."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from experiments.grid.grid_spec import AVERAGE
from experiments.report.results_loader import RunResult


@dataclass(frozen=True)
class Score:
    """Mean and sample standard deviation (``ddof=1``) over seeds; ``std`` is ``None`` for one seed."""

    mean: float
    std: float | None
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Score:
        """Aggregate the finite values (a seed missing a task does not count); NaN when there are none."""
        finite = [v for v in values if v is not None and math.isfinite(v)]
        if not finite:
            return cls(math.nan, None, 0)
        return cls(float(np.mean(finite)), float(np.std(finite, ddof=1)) if len(finite) > 1 else None, len(finite))


@dataclass(frozen=True)
class LeaderboardRow:
    """One configuration.

    Args:
        configuration: Axis name -> label.
        seeds: The seeds aggregated.
        scores: Column -> score.
        rank: 1 for the best primary-metric mean (ties share a rank; missing values rank last).
    """

    configuration: dict[str, str]
    seeds: tuple[int | None, ...]
    scores: dict[str, Score]
    rank: int


@dataclass(frozen=True)
class Leaderboard:
    """Rows sorted by rank, columns (tasks, then ``average``, then the validation metric), best per column.

    Args:
        axes: Names of the configuration columns.
        columns: Score columns, in order.
        higher_is_better: Direction of each column.
        primary: The ranking column.
        rows: The rows, best first.
    """

    axes: tuple[str, ...]
    columns: tuple[str, ...]
    higher_is_better: dict[str, bool]
    primary: str
    rows: tuple[LeaderboardRow, ...]

    def is_best(self, row: LeaderboardRow, column: str) -> bool:
        """Whether ``row`` has the best mean of ``column`` (ties are all best)."""
        means = [r.scores[column].mean for r in self.rows if math.isfinite(r.scores[column].mean)]
        if not means or not math.isfinite(row.scores[column].mean):
            return False
        best = max(means) if self.higher_is_better[column] else min(means)
        return row.scores[column].mean == best

    @classmethod
    def build(
        cls, results: Sequence[RunResult], tasks: Sequence[str] | None = None, primary: str = AVERAGE
    ) -> Leaderboard:
        """Aggregate runs into a leaderboard.

        Args:
            results: Finished runs (seeds of one configuration share ``configuration``).
            tasks: Task columns in order; ``None``: every task any run has, sorted.
            primary: Ranking column: a task, ``average`` (of the task columns), or the validation metric.
                Falls back to the validation metric when no run has test scores.

        Raises:
            ValueError: If there are no results or ``primary`` is not a column.
        """
        if not results:
            raise ValueError("results: expected at least one finished run (a run directory with metrics.json)")
        tasks = list(tasks) if tasks is not None else sorted({task for r in results for task in r.test})
        tasks = [t for t in tasks if any(t in r.test for r in results)]
        columns = [*tasks, AVERAGE] if tasks else []
        directions = dict.fromkeys(columns, True)
        val_metrics = {r.val_metric for r in results}
        if len(val_metrics) == 1 and None not in val_metrics:
            val_metric = val_metrics.pop()
            columns.append(val_metric)
            directions[val_metric] = results[0].val_higher_is_better
        if not tasks and primary not in columns and len(columns) == 1:
            # Runs without test tasks (smoke runs, evaluation.tasks []) are ranked by validation.
            primary = columns[0]
        if primary not in columns:
            raise ValueError(f"primary={primary!r}: expected one of the columns {columns}")
        groups: dict[tuple[str, ...], list[RunResult]] = {}
        for result in results:
            groups.setdefault(result.configuration_key, []).append(result)
        unranked = []
        for runs in groups.values():
            per_column = {task: [r.test.get(task, math.nan) for r in runs] for task in tasks}
            if tasks:
                # A seed's average needs every task, so averages compare like with like.
                per_column[AVERAGE] = [float(np.mean([r.test.get(t, math.nan) for t in tasks])) for r in runs]
            if len(columns) > len(per_column):
                per_column[columns[-1]] = [math.nan if r.best_val is None else r.best_val for r in runs]
            scores = {column: Score.of(values) for column, values in per_column.items()}
            unranked.append((runs[0].configuration, tuple(r.seed for r in runs), scores))
        sign = 1.0 if directions[primary] else -1.0

        def key(item: tuple) -> float:
            mean = item[2][primary].mean
            return -sign * mean if math.isfinite(mean) else math.inf

        ordered = sorted(unranked, key=key)
        rows, rank = [], 0
        for position, item in enumerate(ordered):
            if position == 0 or key(item) != key(ordered[position - 1]):
                rank = position + 1
            rows.append(LeaderboardRow(item[0], item[1], item[2], rank))
        axes = tuple(dict.fromkeys(axis for r in results for axis in r.configuration))
        return cls(axes, tuple(columns), directions, primary, tuple(rows))
