"""Build a report directory from labelled runs: per-seed table, statistics, tables, plots, provenance.

Shared by ``losslab report`` (grids, directories of runs) and a study's final stage
(:func:`experiments.report.study_report.build_study_report`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from experiments.atomic_io import atomic_write_text
from experiments.report import leaderboard_formats as formats
from experiments.report import per_seed_table
from experiments.report.leaderboard import BootstrapSettings, Leaderboard, build_leaderboard
from experiments.report.pair_scores import load_pairs
from experiments.report.per_seed_table import LabelledRun, resolve_baseline
from experiments.report.plots import plot_loss_statistics, plot_task_bars, plot_validation_curves
from experiments.report.provenance import provenance_markdown
from experiments.report.study_plots import StudyPlots, plot_studies
from experiments.report.trials_table import FINISHED, TrialRecord, trials_used, write_trials
from experiments.run_metadata import git_toplevel

COMMITTED_DIR = "reports"
PER_SEED_FILE = "per_seed.csv"


class DirtyRunsError(ValueError):
    """A report would be committed from runs whose code cannot be identified."""


@dataclass(frozen=True)
class ReportSettings:
    """How the statistics are computed and what the report may be built from.

    Args:
        alpha: Significance level after Holm's correction.
        confidence: Level of the t- and bootstrap intervals.
        bootstrap: Bootstrap over test pairs.
        allow_dirty: Build into the committed ``reports/`` even from runs made on a dirty working tree (or
            without a recorded commit); the leaderboard and ``PROVENANCE.md`` then say so.
    """

    alpha: float = 0.05
    confidence: float = 0.95
    bootstrap: BootstrapSettings = field(default_factory=BootstrapSettings)
    allow_dirty: bool = False


@dataclass(frozen=True)
class Report:
    """A written report.

    Args:
        board: The leaderboard.
        files: Every file written.
        leaderboard_csv: ``leaderboard.csv``'s content (for the W&B mirror).
    """

    board: Leaderboard
    files: tuple[Path, ...]
    leaderboard_csv: str


def is_committed_location(output: Path) -> bool:
    """Whether ``output`` lies under ``reports/`` at the root of a git work tree (where reports are committed)."""
    top = git_toplevel(output.resolve())
    if top is None:
        return False
    try:
        parts = output.resolve().relative_to(top).parts
    except ValueError:
        return False
    return bool(parts) and parts[0] == COMMITTED_DIR


def check_provenance(table: pd.DataFrame, output: Path, allow_dirty: bool) -> None:
    """Refuse a committed report from runs made on a dirty tree or without a recorded commit.

    Raises:
        DirtyRunsError: Naming the runs, unless ``allow_dirty`` or ``output`` is not a committed location.
    """
    runs = table.drop_duplicates("run_dir")
    suspect = runs[runs["git_dirty"].isna() | (runs["git_dirty"] == 1)]
    if suspect.empty or allow_dirty or not is_committed_location(output):
        return
    listed = ", ".join(suspect["run_dir"].head(5)) + (", ..." if len(suspect) > 5 else "")
    raise DirtyRunsError(
        f"refusing to write {output} (a committed report location): {len(suspect)} of {len(runs)} runs were made "
        f"on a dirty working tree or without a recorded commit ({listed}); rerun them from a clean commit, write "
        "elsewhere with --output, or pass --allow-dirty (the report then says so)"
    )


def _tuning_section(records: Sequence[TrialRecord], plots: Sequence[StudyPlots]) -> str:
    if not records:
        return ""
    header = "| loss | trials used | complete | pruned | failed | interrupted | best value | plots |"
    lines = ["", "## Tuning", "", header, "|---|---:|---:|---:|---:|---:|---:|---|"]
    for study in plots:
        own = [r for r in records if r.loss == study.loss]
        counts = {state: sum(r.state == state and not r.interrupted for r in own) for state in FINISHED}
        interrupted = sum(r.interrupted for r in own)
        values = [r.value for r in own if r.state == "COMPLETE" and r.value is not None]
        best = (max if own[0].direction == "maximize" else min)(values) if values else None
        links = " ".join(f"[{p.stem}]({p.name})" for p in study.paths if p.suffix == ".png") or "–"
        lines.append(
            f"| {study.loss} | {sum(counts.values())} | {counts['COMPLETE']} | {counts['PRUNED']} | "
            f"{counts['FAIL']} | {interrupted} | {'–' if best is None else f'{best:.4g}'} | {links} |"
        )
    notes = [note for study in plots for note in study.notes]
    return "\n".join(lines + ([""] + [f"- {n}" for n in notes] if notes else [])) + "\n"


def build_report(
    name: str,
    runs: Sequence[LabelledRun],
    tasks: Sequence[str] | None,
    primary: str,
    output: Path,
    command: Sequence[str],
    sources: Sequence[Path],
    baseline_run: Path | None = None,
    trials: Sequence[TrialRecord] = (),
    settings: ReportSettings | None = None,
) -> Report:
    """Compute the statistics and write the report directory.

    Args:
        name: The report's name (title).
        runs: The finished runs, labelled with their row.
        tasks: MTEB task columns in order (``None``: every task a run has, sorted).
        primary: Ranking column (a task, ``average`` or the validation metric).
        output: The report directory.
        command: What built it (for ``PROVENANCE.md``).
        sources: Where the runs were read from.
        baseline_run: A run directory holding the untouched encoder's scores (default: the runs' ``before``).
        trials: Tuning trials (a study): written to ``trials.csv``, plotted, counted as a cost.
        settings: Statistics settings and the dirty-tree rule.

    Raises:
        ValueError: For bad input (no runs, unknown ranking column, inconsistent per-pair files, ...).
        DirtyRunsError: See :func:`check_provenance`.
    """
    settings = settings or ReportSettings()
    if not runs:
        raise ValueError("results: expected at least one finished run (a run directory with metrics.json)")
    results = [run.result for run in runs]
    tasks = list(tasks) if tasks is not None else sorted({task for r in results for task in r.test})
    baseline = resolve_baseline(results, baseline_run)
    table = per_seed_table.per_seed_table(runs, tasks, baseline, output)
    check_provenance(table, output, settings.allow_dirty)
    directions = {r.val_metric: r.val_higher_is_better for r in results if r.val_metric is not None}
    board = build_leaderboard(
        table,
        tasks,
        primary,
        directions,
        load_pairs(table, tasks, output),
        settings.alpha,
        settings.confidence,
        settings.bootstrap,
        trials_used(trials),
    )
    output.mkdir(parents=True, exist_ok=True)
    title = f"{name}: leaderboard"
    written = [atomic_write_text(output / PER_SEED_FILE, per_seed_table.to_csv(table))]
    written += write_trials(trials, output) if trials else []
    study_plots = plot_studies(trials, output)
    leaderboard_csv = formats.to_csv(board)
    markdown = formats.to_markdown(board, title) + _tuning_section(trials, study_plots)
    written += [
        atomic_write_text(output / "leaderboard.md", markdown),
        atomic_write_text(output / "leaderboard.csv", leaderboard_csv),
        atomic_write_text(output / "leaderboard.tex", formats.to_latex(board)),
        atomic_write_text(output / "leaderboard.html", formats.to_html(board, title)),
    ]
    written += plot_task_bars(board, output / "scores_by_task")
    written += plot_validation_curves(runs, output / "validation_curves")
    written += plot_loss_statistics(runs, output / "loss_statistics")
    written += [path for study in study_plots for path in study.paths]
    notes = [note for study in study_plots for note in study.notes]
    provenance = provenance_markdown(command, sources, table, board, notes)
    written.append(atomic_write_text(output / "PROVENANCE.md", provenance))
    return Report(board, tuple(written), leaderboard_csv)
