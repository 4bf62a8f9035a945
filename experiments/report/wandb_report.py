"""Mirror a report to W&B: the leaderboard as a table, the plots as images, the report directory as an artifact."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def publish_report(
    grid: str, leaderboard_csv: str, report_dir: Path, mode: str, project: str, wandb_dir: Path
) -> str | None:
    """Log a grid's report as one W&B run in the grid's group (``job_type="report"``).

    W&B is a mirror: any failure becomes one warning; the files in ``report_dir`` are the results.

    Args:
        grid: The grid's name, which is also the W&B group of its cells' runs.
        leaderboard_csv: The leaderboard in CSV (header row first).
        report_dir: The report directory: its PNG plots are logged as images, all of it as an artifact.
        mode: ``offline`` (written under ``wandb_dir``; upload with ``wandb sync``), ``online`` or ``disabled``.
        project: W&B project (the cells' project, ``losslab`` by default).
        wandb_dir: Where W&B writes its local files.

    Returns:
        The local directory of the W&B run, or ``None`` when disabled or W&B failed.
    """
    if mode == "disabled":
        return None
    try:
        import wandb

        wandb_dir.mkdir(parents=True, exist_ok=True)
        run = wandb.init(
            project=project,
            group=grid,
            job_type="report",
            name=f"{grid}-report",
            mode=mode,
            dir=str(wandb_dir),
            reinit="finish_previous",
            settings=wandb.Settings(init_timeout=60, silent=True, console="off", disable_git=True),
        )
        header, *rows = list(csv.reader(io.StringIO(leaderboard_csv)))
        logged: dict[str, object] = {"leaderboard": wandb.Table(columns=header, data=rows)}
        logged.update({f"plots/{png.stem}": wandb.Image(str(png)) for png in sorted(report_dir.glob("*.png"))})
        run.log(logged)
        artifact = wandb.Artifact(f"{grid}-report", type="report")
        artifact.add_dir(str(report_dir))
        run.log_artifact(artifact)
        run_dir = str(Path(run.dir).parent)
        run.finish()
        return run_dir
    except Exception as err:  # noqa: BLE001 - W&B is a mirror; the report directory holds the results
        log.warning("W&B report upload failed (%s); the report files are complete", err)
        return None
