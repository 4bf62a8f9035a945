"""A leaderboard built from the per-seed table: statistics per loss and column, ties with the best, ranks.

Rank rule: the best loss of the ranking column and every loss not significantly worse than it share rank 1;
the others follow by mean, with standard competition ranks (equal means share a rank, the next rank skips:
1, 1, 3, 4, 4, 6), and losses without a score come last.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from experiments.grid.grid_spec import AVERAGE
from experiments.report.pair_bootstrap import PairStatistics, pair_bootstrap
from experiments.report.pair_scores import TaskPairs
from experiments.report.per_seed_table import BASELINE, COST_PREFIX
from experiments.report.statistics import (
    SeedSummary,
    combine_p,
    holm,
    paired_seed_p,
    scores_by_seed,
    summarize,
    with_average,
)


@dataclass(frozen=True)
class BootstrapSettings:
    """Settings of the bootstrap over test pairs.

    Args:
        n_resamples: Resamples per task (the same for every loss).
        seed: Seed of the resampling.
    """

    n_resamples: int = 1000
    seed: int = 0


@dataclass(frozen=True)
class Cell:
    """One loss on one column.

    Args:
        seeds: Statistics over seeds (mean, std, t-interval).
        pairs: Bootstrap over test pairs (STS tasks with per-pair files), else ``None``.
        p_seeds: Paired t-test over shared seeds against the best (two-sided).
        p_pairs: Paired bootstrap over test pairs against the best (two-sided).
        p_vs_best: The combined p-value: the larger of the available ones.
        p_holm: ``p_vs_best`` after Holm's correction over the column's comparisons.
        tied_with_best: ``True`` for the best and every loss not significantly worse; ``False`` when
            significantly worse; ``None`` when no test was possible (or the loss has no score).
        is_best: The best mean of the column.
    """

    seeds: SeedSummary
    pairs: PairStatistics | None = None
    p_seeds: float | None = None
    p_pairs: float | None = None
    p_vs_best: float | None = None
    p_holm: float | None = None
    tied_with_best: bool | None = None
    is_best: bool = False


@dataclass(frozen=True)
class LeaderboardRow:
    """One loss (or the baseline).

    Args:
        loss: The row label.
        seeds: Its seeds (empty for the baseline).
        cells: Column -> cell.
        costs: Cost column (``cost/...``) -> statistics over seeds.
        rank: See the module docstring; ``None`` for the baseline.
        run_dirs: Its run directories, relative to the report directory, in seed order.
        dirty_runs: How many of its runs were made on a dirty working tree or without a recorded commit.
    """

    loss: str
    seeds: tuple[int, ...]
    cells: dict[str, Cell]
    costs: dict[str, SeedSummary]
    rank: int | None
    run_dirs: tuple[str, ...]
    dirty_runs: int


@dataclass(frozen=True)
class Leaderboard:
    """Ranked rows, the baseline row and what the statistics mean.

    Args:
        columns: Score columns: tasks, ``average``, the validation metric.
        cost_columns: ``cost/...`` columns present in the table.
        higher_is_better: Direction of each score column.
        primary: The ranking column.
        rows: Loss rows, ranked.
        baseline: The untouched encoder's row, or ``None``.
        best: Column -> best loss (``None`` when no loss has a score).
        alpha: Significance level after Holm's correction.
        confidence: Level of the intervals.
        bootstrap: Bootstrap settings (for tasks with per-pair files).
        pair_tasks: Tasks whose cells carry the bootstrap over test pairs.
        trials: Loss -> tuning trials used (finished: complete, pruned or failed), when a study made it.
    """

    columns: tuple[str, ...]
    cost_columns: tuple[str, ...]
    higher_is_better: dict[str, bool]
    primary: str
    rows: tuple[LeaderboardRow, ...]
    baseline: LeaderboardRow | None
    best: dict[str, str | None]
    alpha: float = 0.05
    confidence: float = 0.95
    bootstrap: BootstrapSettings = field(default_factory=BootstrapSettings)
    pair_tasks: tuple[str, ...] = ()
    trials: dict[str, int] = field(default_factory=dict)


def _column_cells(
    table: pd.DataFrame,
    column: str,
    losses: Sequence[str],
    higher: bool,
    pairs: TaskPairs | None,
    alpha: float,
    confidence: float,
    bootstrap: BootstrapSettings,
) -> tuple[dict[str, Cell], str | None]:
    by_seed = {loss: scores_by_seed(table, loss, column) for loss in [*losses, BASELINE]}
    summaries = {loss: summarize(values.tolist(), confidence) for loss, values in by_seed.items()}
    scored = [loss for loss in losses if math.isfinite(summaries[loss].mean)]
    # max() keeps the first of equal means: the best is deterministic (losses are in label order).
    best = max(scored, key=lambda loss: summaries[loss].mean * (1 if higher else -1)) if scored else None
    others = [loss for loss in scored if loss != best]
    paired = (
        {} if pairs is None else pair_bootstrap(pairs, best, others, confidence, bootstrap.n_resamples, bootstrap.seed)
    )
    p_seeds = {loss: paired_seed_p(by_seed[best], by_seed[loss]) for loss in others}
    p_pairs = {loss: paired[loss].p_vs_best if loss in paired else None for loss in others}
    combined = {loss: combine_p([p_seeds[loss], p_pairs[loss]]) for loss in others}
    tested = [loss for loss in others if combined[loss] is not None]
    adjusted = dict(zip(tested, holm([combined[loss] for loss in tested]), strict=True))
    cells = {}
    for loss in [*losses, BASELINE]:
        if loss == best:
            tied: bool | None = True
        else:
            tied = None if loss not in adjusted else adjusted[loss] >= alpha
        cells[loss] = Cell(
            seeds=summaries[loss],
            pairs=paired.get(loss),
            p_seeds=p_seeds.get(loss),
            p_pairs=p_pairs.get(loss),
            p_vs_best=combined.get(loss),
            p_holm=adjusted.get(loss),
            tied_with_best=tied,
            is_best=loss == best,
        )
    return cells, best


def _ranks(losses: Sequence[str], cells: Mapping[str, Cell], higher: bool) -> dict[str, int]:
    top = [loss for loss in losses if cells[loss].tied_with_best]
    rest = [loss for loss in losses if not cells[loss].tied_with_best]

    def key(loss: str) -> float:
        mean = cells[loss].seeds.mean
        return (-mean if higher else mean) if math.isfinite(mean) else math.inf

    ranks = dict.fromkeys(top, 1)
    ordered = sorted(rest, key=key)
    for position, loss in enumerate(ordered):
        # Equal up to float summation order (the same scores of other seeds sum in another order).
        shared = position > 0 and math.isclose(key(loss), key(ordered[position - 1]), rel_tol=1e-12, abs_tol=1e-9)
        ranks[loss] = ranks[ordered[position - 1]] if shared else len(top) + position + 1
    return ranks


def build_leaderboard(
    table: pd.DataFrame,
    tasks: Sequence[str],
    primary: str,
    higher_is_better: Mapping[str, bool] | None = None,
    pairs: Mapping[str, TaskPairs] | None = None,
    alpha: float = 0.05,
    confidence: float = 0.95,
    bootstrap: BootstrapSettings | None = None,
    trials: Mapping[str, int] | None = None,
) -> Leaderboard:
    """Statistics, ties with the best and ranks, from the per-seed table (and per-pair scores).

    Args:
        table: The per-seed table (``per_seed.csv``).
        tasks: MTEB task columns in order (those no run has are dropped).
        primary: Ranking column: a task, ``average`` (of the tasks, per seed) or the validation metric; falls
            back to the validation metric when no run has test scores.
        higher_is_better: Direction per column (default: higher is better).
        pairs: Task -> per-pair scores, for the bootstrap over test pairs.
        alpha: Significance level (after Holm) for "significantly worse than the best".
        confidence: Level of the t- and bootstrap intervals.
        bootstrap: Bootstrap settings.
        trials: Loss -> tuning trials used (a study's report), shown as a cost column.

    Raises:
        ValueError: If the table has no loss rows or ``primary`` is not a column.
    """
    directions = dict(higher_is_better or {})
    bootstrap = bootstrap or BootstrapSettings()
    losses = sorted(set(table.loc[table["loss"] != BASELINE, "loss"]))
    if not losses:
        raise ValueError("results: expected at least one finished run (a run directory with metrics.json)")
    present = set(table.loc[table["loss"] != BASELINE, "task"])
    tasks = [t for t in tasks if t in present]
    extra = sorted(t for t in present if t not in tasks and not t.startswith(COST_PREFIX))
    columns = [*tasks, AVERAGE] if tasks else []
    columns += [t for t in extra if t.startswith("val/")]
    if not tasks and primary not in columns and len(columns) == 1:
        primary = columns[0]  # runs without test tasks (smoke runs) are ranked by validation
    if primary not in columns:
        raise ValueError(f"primary={primary!r}: expected one of the columns {columns}")
    table = with_average(table, tasks)
    cost_columns = tuple(c for c in ("wall_time_s", "global_step", "peak_memory_mb") if COST_PREFIX + c in present)
    cells: dict[str, dict[str, Cell]] = {}
    best: dict[str, str | None] = {}
    for column in columns:
        higher = directions.setdefault(column, True)
        column_pairs = (pairs or {}).get(column)
        cells[column], best[column] = _column_cells(
            table, column, losses, higher, column_pairs, alpha, confidence, bootstrap
        )
    ranks = _ranks(losses, cells[primary], directions[primary])

    def row(loss: str, rank: int | None) -> LeaderboardRow:
        runs = table[(table["loss"] == loss) & table["run_dir"].notna()].drop_duplicates("run_dir")
        runs = runs.sort_values("seed", na_position="first")
        dirty = int(sum(1 for flag in runs["git_dirty"] if pd.isna(flag) or flag))
        return LeaderboardRow(
            loss=loss,
            seeds=tuple(int(s) for s in runs["seed"].dropna()),
            cells={column: cells[column][loss] for column in columns},
            costs={
                c: summarize(scores_by_seed(table, loss, COST_PREFIX + c).tolist(), confidence) for c in cost_columns
            },
            rank=rank,
            run_dirs=tuple(str(path) for path in runs["run_dir"]),
            dirty_runs=dirty,
        )

    def order(loss: str) -> tuple[int, float]:
        mean = cells[primary][loss].seeds.mean
        return ranks[loss], (-mean if directions[primary] else mean) if math.isfinite(mean) else math.inf

    ordered = sorted(losses, key=order)  # stable: equal ranks and means keep label order
    return Leaderboard(
        columns=tuple(columns),
        cost_columns=cost_columns,
        higher_is_better={c: directions[c] for c in columns},
        primary=primary,
        rows=tuple(row(loss, ranks[loss]) for loss in ordered),
        baseline=row(BASELINE, None) if BASELINE in set(table["loss"]) else None,
        best=best,
        alpha=alpha,
        confidence=confidence,
        bootstrap=bootstrap,
        pair_tasks=tuple(t for t in tasks if t in (pairs or {})),
        trials=dict(trials or {}),
    )
