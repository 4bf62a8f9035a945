"""``losslab report SPEC|RUNS_DIR``: leaderboard with statistics, tables, plots and provenance from run directories."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from experiments.grid.grid_spec import AVERAGE, GridSpec, resolve_spec_path
from experiments.report.leaderboard import BootstrapSettings
from experiments.report.leaderboard_formats import to_markdown
from experiments.report.per_seed_table import LabelledRun
from experiments.report.report_builder import ReportSettings, build_report
from experiments.report.results_loader import load_results
from experiments.report.wandb_report import publish_report


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="losslab report",
        description="Rebuild a grid's leaderboard (Markdown, CSV, LaTeX, HTML) with confidence intervals and "
        "paired tests against the best, per_seed.csv, plots (PNG, SVG) and PROVENANCE.md from its run "
        "directories alone.",
    )
    parser.add_argument("source", help="grid spec (file or built-in name) or a directory of run directories")
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


def _source(args: argparse.Namespace) -> tuple[str, Path, list[str] | None, str]:
    """Grid name, runs directory, task order and ranking column, from a spec or a directory."""
    if Path(args.source).is_dir():
        path = Path(args.source)
        return path.resolve().name, path, None, args.primary or AVERAGE
    spec = GridSpec.from_yaml(resolve_spec_path(args.source))
    return spec.name, Path(args.runs_dir) / spec.name, list(spec.evaluation_tasks), args.primary or spec.primary_metric


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
        name, runs_dir, tasks, primary = _source(args)
        settings = _settings(args)
        # A row per configuration: the grid's axis labels, joined (one axis, "loss", in the built-in grids).
        runs = [LabelledRun(" ".join(r.configuration.values()), r) for r in load_results(runs_dir)]
        output = Path(args.output or Path("reports") / name)
        command = ["losslab", "report", *argv]
        report = build_report(name, runs, tasks, primary, output, command, [runs_dir], args.baseline_run, (), settings)
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
