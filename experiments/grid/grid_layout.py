"""Where a grid's files live under ``runs/<grid>/`` and what they say about each cell."""

from __future__ import annotations

import json
import time
from enum import Enum
from pathlib import Path
from typing import Any

from experiments.grid.cell_claims import claim_is_stale, read_claim
from experiments.grid.grid_cell import GridCell

METRICS_FILE = "metrics.json"


class CellStatus(str, Enum):
    """State of a cell, read from its files only."""

    DONE = "done"
    FAILED = "failed"
    RUNNING = "running"
    INTERRUPTED = "interrupted"
    PENDING = "pending"
    REFUSED = "refused"


class GridLayout:
    """Files of one grid: ``<cell>/`` (run directory), ``<cell>.claim``, ``<cell>.failed.json``.

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
        """The record of the cell's last failure."""
        return self.root / f"{cell.cell_id}.failed.json"

    def metrics(self, cell: GridCell) -> dict[str, Any] | None:
        """The cell's ``metrics.json``, or ``None`` while it is not done."""
        path = self.run_dir(cell) / METRICS_FILE
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def failure(self, cell: GridCell) -> dict[str, Any] | None:
        """The cell's failure record, or ``None``."""
        path = self.failed_path(cell)
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def status(self, cell: GridCell, claimed_here: bool = False) -> CellStatus:
        """The cell's state: refused, done, running (a live claim), failed, interrupted or pending.

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

    def move_aside(self, cell: GridCell, reason: str) -> Path:
        """Rename the cell's run directory to ``<cell>.<reason>-<timestamp>`` (nothing is deleted).

        A failure record moves into it, so the cell starts from scratch with its history kept.
        """
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.root / f"{cell.cell_id}.{reason}-{stamp}"
        suffix = 1
        while target.exists():
            suffix += 1
            target = self.root / f"{cell.cell_id}.{reason}-{stamp}-{suffix}"
        if self.run_dir(cell).exists():
            self.run_dir(cell).rename(target)
        else:
            target.mkdir(parents=True)
        if self.failed_path(cell).is_file():
            self.failed_path(cell).rename(target / "failed.json")
        return target
