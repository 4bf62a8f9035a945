"""Where a grid's files live under ``runs/<grid>/`` and what they say about each cell."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import Any

from experiments.atomic_io import atomic_write_json
from experiments.grid.cell_claims import claim_is_stale, read_claim
from experiments.grid.grid_cell import GridCell

METRICS_FILE = "metrics.json"
LAST_CHECKPOINT = Path("checkpoints") / "last.ckpt"


class CellStatus(str, Enum):
    """State of a cell (its files, its claim and, for SLURM cells, the scheduler)."""

    DONE = "done"
    FAILED = "failed"
    RUNNING = "running"
    PREEMPTED = "preempted"
    INTERRUPTED = "interrupted"
    PENDING = "pending"
    REFUSED = "refused"


def set_aside(run_dir: Path, reason: str, keep: Iterable[str] = ()) -> Path | None:
    """Move what ``run_dir`` holds (but ``keep``) into a new sibling ``<name>.<reason>-<timestamp>``.

    Nothing is deleted: an earlier attempt's files stay next to the cell, which then starts from scratch.

    Returns:
        The new directory, or ``None`` when there was nothing to move.
    """
    keep = set(keep)
    leftovers = sorted(p for p in run_dir.iterdir() if p.name not in keep) if run_dir.is_dir() else []
    if not leftovers:
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = run_dir.with_name(f"{run_dir.name}.{reason}-{stamp}")
    suffix = 1
    while target.exists():
        suffix += 1
        target = run_dir.with_name(f"{run_dir.name}.{reason}-{stamp}-{suffix}")
    target.mkdir()
    for path in leftovers:
        path.rename(target / path.name)
    return target


class GridLayout:
    """Files of one grid: each cell's run directory and, beside it, its claim and records.

    ``<cell>/`` (run directory), ``<cell>.claim`` (a local worker's claim), ``<cell>.failed.json`` (local
    failures), ``<cell>.slurm.json`` (SLURM submissions), ``_slurm/`` (batch scripts and task logs).

    Args:
        root: The grid's directory, ``runs/<grid name>``.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def run_dir(self, cell: GridCell) -> Path:
        """The cell's run directory; the cell is done once it holds ``metrics.json``."""
        return self.root / cell.cell_id

    def claim_path(self, cell: GridCell) -> Path:
        """The cell's claim file."""
        return self.root / f"{cell.cell_id}.claim"

    def failed_path(self, cell: GridCell) -> Path:
        """The record of the cell's local failures (a list, oldest first)."""
        return self.root / f"{cell.cell_id}.failed.json"

    def submissions_path(self, cell: GridCell) -> Path:
        """The record of the cell's SLURM submissions."""
        return self.root / f"{cell.cell_id}.slurm.json"

    def slurm_folder(self) -> Path:
        """The folder of submitit's batch scripts, pickles and task logs."""
        return self.root / "_slurm"

    def last_checkpoint(self, cell: GridCell) -> Path:
        """The checkpoint an interrupted fit resumes from (``losslab fit --resume``)."""
        return self.run_dir(cell) / LAST_CHECKPOINT

    def metrics(self, cell: GridCell) -> dict[str, Any] | None:
        """The cell's ``metrics.json``, or ``None`` while it is not done."""
        path = self.run_dir(cell) / METRICS_FILE
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def failures(self, cell: GridCell) -> list[dict[str, Any]]:
        """The cell's local failure records, oldest first."""
        path = self.failed_path(cell)
        if not path.is_file():
            return []
        records = json.loads(path.read_text(encoding="utf-8"))
        # A record written before failures were kept as a list is one failure.
        return records if isinstance(records, list) else [records]

    def record_failure(self, cell: GridCell, record: dict[str, Any]) -> int:
        """Append a failure record (atomically); returns how many failures the cell has now."""
        records = [*self.failures(cell), record]
        atomic_write_json(self.failed_path(cell), records)
        return len(records)

    def status(self, cell: GridCell, claimed_here: bool = False) -> CellStatus:
        """The cell's state from its files and claim alone (the scheduler's view: ``CellStateReader``).

        Refused, done, running (a live local claim), failed (a local attempt failed), interrupted (a run
        directory without ``metrics.json``) or pending.

        Args:
            cell: The cell.
            claimed_here: The caller holds the claim, so it does not count as another worker running.
        """
        if cell.refused:
            return CellStatus.REFUSED
        if (self.run_dir(cell) / METRICS_FILE).is_file():
            return CellStatus.DONE
        claim_path = self.claim_path(cell)
        if not claimed_here and claim_path.exists() and not claim_is_stale(read_claim(claim_path)):
            return CellStatus.RUNNING
        if self.failed_path(cell).is_file():
            return CellStatus.FAILED
        if self.run_dir(cell).exists():
            return CellStatus.INTERRUPTED
        return CellStatus.PENDING
