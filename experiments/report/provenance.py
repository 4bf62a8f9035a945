"""``PROVENANCE.md``: how a report was made and from which runs."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from experiments.report.results_loader import RunResult
from experiments.run_metadata import git_commit, package_versions


def provenance_markdown(command: Sequence[str], runs_dir: Path, results: Sequence[RunResult]) -> str:
    """The exact command, the date, the code's git commit and the commits that produced the runs.

    Args:
        command: The report command line (``losslab report ...``).
        runs_dir: Where the runs were read from.
        results: The runs the report aggregates.
    """
    commits = sorted({r.git_commit or "unknown" for r in results})
    versions = ", ".join(f"{name} {version}" for name, version in package_versions().items())
    lines = [
        "# Provenance",
        "",
        f"- command: `{shlex.join(command)}`",
        f"- date: {datetime.now(timezone.utc).isoformat(timespec='seconds')}",
        f"- git commit of the report code: {git_commit(Path(__file__).resolve().parent) or 'unknown'}",
        f"- runs directory: `{runs_dir}` ({len(results)} finished runs)",
        f"- git commits that produced the runs: {', '.join(commits)}",
        f"- packages: {versions}",
        "",
        "Everything here is regenerated from the run directories alone (`metrics.json`, `grid_cell.json`, "
        "`metrics.csv`); rerun the command above to rebuild it.",
        "",
        "## Runs",
        "",
        *(f"- `{r.run_dir.name}` (seed {r.seed})" for r in results),
    ]
    return "\n".join(lines) + "\n"
