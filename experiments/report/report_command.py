"""``losslab report SPEC|RUNS_DIR``: leaderboard with statistics, tables, plots and provenance from run directories."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from experiments.evaluation.task_resolver import task_names
from experiments.grid.grid_spec import AVERAGE, GRIDS_DIR, GridSpec, resolve_spec_path
from experiments.report.leaderboard import BootstrapSettings
from experiments.report.leaderboard_formats import to_markdown
from experiments.report.per_seed_table import LabelledRun
from experiments.report.report_builder import ReportSettings, build_report
from experiments.report.results_loader import load_results
from experiments.report.trials_table import TrialRecord, read_trials
from experiments.report.wandb_report import publish_report
from experiments.tune.study_spec import STUDIES_DIR, StudySpec, resolve_study_path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="losslab report",
        description="Rebuild a grid's leaderboard (Markdown, CSV, LaTeX, HTML) with confidence intervals and "
        "paired tests against the best, per_seed.csv, plots (PNG, SVG) and PROVENANCE.md from its run "
        "directories alone.",
    )
    parser.add_argument("source", help="grid or study spec (file or built-in name), or a directory of run directories")
    parser.add_argument("--runs-dir", default="runs", help="root of grid run directories, for a spec (default runs/)")
    parser.add_argument("--output", default=None, help="report directory (default reports/<grid>)")
    parser.add_argument("--primary", default=None, help="ranking column: a task, 'average' or the val metric")
    parser.add_argument(
        "--baseline-run",
        type=Path,
        default=None,
        help="run directory with the untouched encoder's scores (its metrics.json 'before', else 'test'); "
        "default: the 'before' scores of the grid's runs, when evaluation.before_fit was on",
    )
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level after Holm (default 0.05)")
    parser.add_argument(
        "--bootstrap-resamples", type=int, default=1000, help="resamples of test pairs per STS task (default 1000)"
    )
    parser.add_argument("--bootstrap-seed", type=int, default=0, help="seed of the pair bootstrap (default 0)")
    parser.add_argument(
        "--allow-dirty",
        action="store_true",
        help="write into the committed reports/ even from runs made on a dirty working tree or without a "
        "recorded commit (the leaderboard and PROVENANCE.md then say so)",
    )
    parser.add_argument(
        "--wandb",
        choices=["offline", "online", "disabled"],
        default="offline",
        help="mirror the leaderboard table, plots and report directory to W&B in the grid's group "
        "(offline: under RUNS_DIR/_report, upload with `wandb sync`; default offline)",
    )
    parser.add_argument("--wandb-project", default="losslab", help="W&B project of the grid's runs (default losslab)")
    return parser


def _is_study(source: str) -> bool:
    """Whether ``source`` names a study spec (a spec with ``losses:``, or a built-in study)."""
    path = Path(source)
    if path.is_file():
        return isinstance(raw := yaml.safe_load(path.read_text(encoding="utf-8")), dict) and "losses" in raw
    return (STUDIES_DIR / f"{source}.yaml").is_file() and not (GRIDS_DIR / f"{source}.yaml").is_file()


def _source(args: argparse.Namespace) -> tuple[str, Path, list[str] | None, str, list[TrialRecord]]:
    """Name, runs directory, task order, ranking column and tuning trials, from a spec or a directory.

    A study's report is built from its final stage (``runs/<study>/final``) and the trial table its
    search exported (``runs/<study>/trials.csv``).
    """
    if Path(args.source).is_dir():
        path = Path(args.source)
        return path.resolve().name, path, None, args.primary or AVERAGE, []
    if _is_study(args.source):
        study = StudySpec.from_yaml(resolve_study_path(args.source))
        root = Path(args.runs_dir) / study.name
        trials = read_trials(root) if (root / "trials.csv").is_file() else []
        tasks = task_names(list(study.evaluation_tasks))
        return study.name, root / "final", tasks, _primary(args.primary, study.primary_metric), trials
    spec = GridSpec.from_yaml(resolve_spec_path(args.source))
    tasks = task_names(list(spec.evaluation_tasks))
    return spec.name, Path(args.runs_dir) / spec.name, tasks, _primary(args.primary, spec.primary_metric), []


def _primary(given: str | None, from_spec: str) -> str:
    # A CSV task is ranked under the name its results are filed under.
    return given or (from_spec if from_spec == AVERAGE else task_names([from_spec])[0])


def _settings(args: argparse.Namespace) -> ReportSettings:
    if not 0.0 < args.alpha < 1.0:
        raise ValueError(f"--alpha {args.alpha}: expected a level between 0 and 1")
    if args.bootstrap_resamples < 1:
        raise ValueError(f"--bootstrap-resamples {args.bootstrap_resamples}: expected at least 1")
    bootstrap = BootstrapSettings(args.bootstrap_resamples, args.bootstrap_seed)
    return ReportSettings(alpha=args.alpha, bootstrap=bootstrap, allow_dirty=args.allow_dirty)


def main(argv: list[str]) -> int:
    """Entry point of ``losslab report``; returns 0, or 2 for bad input or a refused (dirty) report."""
    args = _parser().parse_args(argv)
    try:
        name, runs_dir, tasks, primary, trials = _source(args)
        settings = _settings(args)
        # A row per configuration: the grid's axis labels, joined (one axis, "loss", in the built-in grids).
        runs = [LabelledRun(" ".join(r.configuration.values()), r) for r in load_results(runs_dir)]
        output = Path(args.output or Path("reports") / name)
        command = ["losslab", "report", *argv]
        report = build_report(
            name, runs, tasks, primary, output, command, [runs_dir], args.baseline_run, trials, settings
        )
    except ValueError as err:
        print(f"losslab report: error: {err}", file=sys.stderr)
        return 2
    print(to_markdown(report.board))
    print(f"{len(runs)} runs, {len(report.board.rows)} configurations -> {output}/ ({len(report.files)} files)")
    wandb_run = publish_report(
        name, report.leaderboard_csv, output, args.wandb, args.wandb_project, runs_dir / "_report"
    )
    if wandb_run is not None:
        print(f"W&B ({args.wandb}, group {name}): {wandb_run}")
    return 0
