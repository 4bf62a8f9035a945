"""``PROVENANCE.md``: how a report was made, from which runs and code, and whether that code was committed."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from experiments.report.leaderboard import Leaderboard
from experiments.report.leaderboard_formats import dirty_warning
from experiments.report.per_seed_table import BASELINE
from experiments.run_metadata import git_commit, package_versions


def _runs(table: pd.DataFrame) -> pd.DataFrame:
    runs = table.drop_duplicates("run_dir")[["loss", "seed", "run_dir", "git_commit", "git_dirty"]]
    return runs.sort_values(["loss", "seed"], na_position="first")


def _state(commit: object, dirty: object) -> str:
    if pd.isna(commit):
        return "**no recorded commit**"
    return f"{commit} **(dirty tree)**" if not pd.isna(dirty) and dirty else str(commit)


def provenance_markdown(
    command: Sequence[str], sources: Sequence[Path], table: pd.DataFrame, board: Leaderboard, notes: Sequence[str] = ()
) -> str:
    """The exact command, date, code commit, the runs and their commits, and the statistics' settings.

    Args:
        command: The report command line (``losslab report ...``), or what built the report.
        sources: Where the runs were read from.
        table: The per-seed table (``run_dir``, ``git_commit``, ``git_dirty`` per run).
        board: The leaderboard (settings of the statistics).
        notes: Further lines (plots not drawn, and why).
    """
    runs = _runs(table)
    warning = dirty_warning(board)
    commits = sorted({_state(c, d) for c, d in zip(runs["git_commit"], runs["git_dirty"], strict=True)})
    versions = ", ".join(f"{name} {version}" for name, version in package_versions().items())
    lines = ["# Provenance", ""]
    if warning:
        lines += [f"> **{warning} Built with `--allow-dirty`.**", ""]
    lines += [
        f"- command: `{shlex.join(command)}`",
        f"- date: {datetime.now(timezone.utc).isoformat(timespec='seconds')}",
        f"- git commit of the report code: {git_commit(Path(__file__).resolve().parent) or 'unknown'}",
        f"- runs read from: {', '.join(f'`{s}`' for s in sources)} ({len(runs)} finished runs)",
        f"- git commits that produced the runs: {', '.join(commits)}",
        f"- statistics: {round(100 * board.confidence)}% intervals, alpha {board.alpha} after Holm; bootstrap over "
        f"test pairs: {board.bootstrap.n_resamples} resamples, seed {board.bootstrap.seed}"
        + (f" ({', '.join(board.pair_tasks)})" if board.pair_tasks else " (no per-pair files)"),
        f"- packages: {versions}",
        "",
        "Every number of the leaderboard is computed from `per_seed.csv` (and, for the bootstrap over test pairs, "
        "the runs' `mteb/<stage>/per_pair/<Task>.csv`); `per_seed.csv` itself is read from the run directories "
        "(`metrics.json`, `grid_cell.json`, `run_metadata.json`). Rerun the command above to rebuild it.",
        "",
    ]
    if notes:
        lines += ["## Notes", "", *(f"- {note}" for note in notes), ""]
    lines += ["## Runs", ""]
    for run in runs.itertuples():
        label = run.loss if run.loss == BASELINE else f"{run.loss}, seed {run.seed}"
        lines.append(f"- `{run.run_dir}` ({label}): {_state(run.git_commit, run.git_dirty)}")
    return "\n".join(lines) + "\n"
