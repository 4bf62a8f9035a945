"""Run the cells of a grid: resumable, one process per cell, safe with several workers."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from experiments.atomic_io import atomic_write_json
from experiments.grid.cell_claims import CellClaim
from experiments.grid.cell_launcher import CellLauncher
from experiments.grid.grid_cell import CELL_FILE, GridCell
from experiments.grid.grid_layout import CellStatus, GridLayout


class GridRunner:
    """Runs every runnable cell once: done cells are skipped, interrupted ones restarted from scratch.

    A cell is done only when its run directory holds ``metrics.json`` (written atomically by the fit).
    Each cell is claimed first (an ``O_EXCL`` claim file), so workers sharing the grid directory split the
    cells between them. A run directory left by an interrupted cell is renamed to
    ``<cell>.interrupted-<timestamp>``; a failing cell gets ``<cell>.failed.json`` and the grid goes on.

    Args:
        cells: The cells to run, in order.
        layout: The grid's directory.
        launcher: Runs one cell's ``losslab fit``.
        retry_failed: Run cells that failed before (their run directory is moved aside first).
        out: Where progress lines go (default: standard output).
    """

    def __init__(
        self,
        cells: Sequence[GridCell],
        layout: GridLayout,
        launcher: CellLauncher,
        retry_failed: bool = False,
        out: TextIO | None = None,
    ) -> None:
        self.cells = list(cells)
        self.layout = layout
        self.launcher = launcher
        self.retry_failed = retry_failed
        self.out = out or sys.stdout

    def _skip_reason(self, cell: GridCell, claimed_here: bool = False) -> str | None:
        status = self.layout.status(cell, claimed_here)
        if status is CellStatus.FAILED and not self.retry_failed:
            return "failed before (use --retry-failed)"
        if status in (CellStatus.DONE, CellStatus.REFUSED, CellStatus.RUNNING):
            return status.value
        return None

    def run(self) -> Counter[str]:
        """Run the cells.

        Returns:
            How many cells ended in each state (``done``, ``failed``, ``skipped``).
        """
        self.layout.root.mkdir(parents=True, exist_ok=True)
        outcome: Counter[str] = Counter()
        for cell in self.cells:
            reason = self._skip_reason(cell)
            claim = None if reason else CellClaim.acquire(self.layout.claim_path(cell))
            if claim is None:
                print(
                    f"[{cell.index}] {cell.cell_id}: skipped ({reason or 'claimed by another worker'})", file=self.out
                )
                outcome["skipped"] += 1
                continue
            try:
                # Re-read under the claim: another worker may have finished the cell meanwhile.
                reason = self._skip_reason(cell, claimed_here=True)
                if reason:
                    print(f"[{cell.index}] {cell.cell_id}: skipped ({reason})", file=self.out)
                    outcome["skipped"] += 1
                    continue
                outcome[self._run_cell(cell, claim)] += 1
            finally:
                claim.release()
        return outcome

    def _run_cell(self, cell: GridCell, claim: CellClaim) -> str:
        status = self.layout.status(cell, claimed_here=True)
        if status in (CellStatus.INTERRUPTED, CellStatus.FAILED):
            moved = self.layout.move_aside(cell, status.value)
            print(f"[{cell.index}] {cell.cell_id}: {status.value} before, moved aside to {moved.name}", file=self.out)
        run_dir = self.layout.run_dir(cell)
        run_dir.mkdir(parents=True)
        atomic_write_json(run_dir / CELL_FILE, cell.to_json())
        print(f"[{cell.index}] {cell.cell_id}: running (logs in {run_dir})", file=self.out, flush=True)
        started = time.monotonic()
        result = self.launcher(cell.fit_args(run_dir), run_dir, claim.add_pid)
        elapsed = time.monotonic() - started
        # metrics.json is the only proof of a finished cell, whatever the exit code says.
        if self.layout.metrics(cell) is not None:
            print(f"[{cell.index}] {cell.cell_id}: done in {elapsed:.0f} s", file=self.out)
            return CellStatus.DONE.value
        record = {
            "cell_id": cell.cell_id,
            "returncode": result.returncode,
            "stderr_tail": result.stderr_tail,
            "elapsed_s": round(elapsed, 1),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        atomic_write_json(self.layout.failed_path(cell), record)
        last = result.stderr_tail.splitlines()[-1] if result.stderr_tail else ""
        print(f"[{cell.index}] {cell.cell_id}: FAILED (exit {result.returncode}) {last}", file=self.out)
        return CellStatus.FAILED.value
