"""``losslab report SPEC|RUNS_DIR``: leaderboard tables, plots and provenance from run directories."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from experiments.atomic_io import atomic_write_text
from experiments.grid.grid_spec import AVERAGE, GridSpec, resolve_spec_path
from experiments.report.leaderboard import Leaderboard
from experiments.report.leaderboard_formats import to_csv, to_html, to_latex, to_markdown
from experiments.report.plots import plot_loss_statistics, plot_task_bars, plot_validation_curves
from experiments.report.provenance import provenance_markdown
from experiments.report.results_loader import load_results
from experiments.report.wandb_report import publish_report


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="losslab report",
        description="Rebuild a grid's leaderboard (Markdown, CSV, LaTeX, HTML), plots (PNG, SVG) and "
        "PROVENANCE.md from its run directories alone.",
    )
    parser.add_argument("source", help="grid spec (file or built-in name) or a directory of run directories")
    parser.add_argument("--runs-dir", default="runs", help="root of grid run directories, for a spec (default runs/)")
    parser.add_argument("--output", default=None, help="report directory (default reports/<grid>)")
    parser.add_argument("--primary", default=None, help="ranking column: a task, 'average' or the val metric")
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


def main(argv: list[str]) -> int:
    """Entry point of ``losslab report``; returns 0, or 2 when there is nothing to report."""
    args = _parser().parse_args(argv)
    try:
        name, runs_dir, tasks, primary = _source(args)
        results = load_results(runs_dir)
        board = Leaderboard.build(results, tasks, primary)
    except ValueError as err:
        print(f"losslab report: error: {err}", file=sys.stderr)
        return 2
    output = Path(args.output or Path("reports") / name)
    output.mkdir(parents=True, exist_ok=True)
    title = f"{name}: leaderboard"
    atomic_write_text(
        output / "leaderboard.md",
        f"# {title}\n\nRanked by {board.primary}; mean ± std over seeds "
        "(sample std); best of each column in bold.\n\n" + to_markdown(board),
    )
    leaderboard_csv = to_csv(board)
    atomic_write_text(output / "leaderboard.csv", leaderboard_csv)
    atomic_write_text(output / "leaderboard.tex", to_latex(board))
    atomic_write_text(output / "leaderboard.html", to_html(board, title))
    written = [output / f"leaderboard.{ext}" for ext in ("md", "csv", "tex", "html")]
    written += plot_task_bars(board, output / "scores_by_task")
    written += plot_validation_curves(results, output / "validation_curves")
    written += plot_loss_statistics(results, output / "loss_statistics")
    atomic_write_text(output / "PROVENANCE.md", provenance_markdown(["losslab", "report", *argv], runs_dir, results))
    print(to_markdown(board))
    print(f"{len(results)} runs, {len(board.rows)} configurations -> {output}/ ({len(written) + 1} files)")
    wandb_run = publish_report(name, leaderboard_csv, output, args.wandb, args.wandb_project, runs_dir / "_report")
    if wandb_run is not None:
        print(f"W&B ({args.wandb}, group {name}): {wandb_run}")
    return 0
