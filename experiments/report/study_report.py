"""The report of a study's final stage: each loss's best configuration rerun with several seeds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from experiments.report.per_seed_table import LabelledRun
from experiments.report.report_builder import Report, ReportSettings, build_report
from experiments.report.results_loader import load_run
from experiments.report.trials_table import TrialRecord


def build_study_report(
    runs_by_loss: Mapping[str, Sequence[Path]],
    trials: Sequence[TrialRecord],
    ranking_task: str,
    output_dir: Path,
    tasks: Sequence[str] | None = None,
    baseline_run: Path | None = None,
    settings: ReportSettings | None = None,
    name: str | None = None,
    command: Sequence[str] = ("losslab", "tune"),
) -> Report:
    """Write a study's report: leaderboard with statistics, ``per_seed.csv``, ``trials.csv``, plots, provenance.

    Args:
        runs_by_loss: Loss label -> its final-stage run directories (one per seed; seeds shared across losses).
        trials: Every tuning trial of every loss (e.g. ``TrialRecord.from_frozen_trial`` of Optuna's trials).
        ranking_task: The ranking column: an MTEB task, ``average`` or the validation metric.
        output_dir: The report directory (``reports/<study>`` to commit it).
        tasks: MTEB task columns in order (``None``: every task a run has).
        baseline_run: A run directory with the untouched encoder's scores (default: the runs' ``before``).
        settings: Statistics settings and the dirty-tree rule.
        name: The report's title (default: the output directory's name).
        command: The command line that built it, for ``PROVENANCE.md``.

    Raises:
        ValueError: If a run directory has not finished, or for any bad input :func:`build_report` refuses.
    """
    runs = []
    for loss, run_dirs in runs_by_loss.items():
        for run_dir in run_dirs:
            result = load_run(Path(run_dir))
            if result is None:
                raise ValueError(f"{run_dir} (loss {loss!r}): not a finished run directory (no metrics.json)")
            runs.append(LabelledRun(loss, result))
    sources = sorted({Path(run.result.run_dir).parent for run in runs})
    return build_report(
        name or Path(output_dir).resolve().name,
        runs,
        tasks,
        ranking_task,
        Path(output_dir),
        list(command),
        sources,
        baseline_run,
        trials,
        settings,
    )
