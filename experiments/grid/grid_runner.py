"""Run the cells of a grid on this machine: resumable, one process per cell, safe with several workers."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TextIO

from experiments.atomic_io import atomic_write_json
from experiments.grid.cell_claims import CellClaim
from experiments.grid.cell_launcher import CellLauncher
from experiments.grid.cell_state import CellState, CellStateReader
from experiments.grid.grid_cell import CELL_FILE, GridCell
from experiments.grid.grid_layout import CellStatus, GridLayout, set_aside
from experiments.grid.run_cell import cell_fit_args

MAX_FAILURES = 3


class GridRunner:
    """Runs every runnable cell once: done cells are skipped, interrupted ones resumed or restarted.

    A cell is done only when its run directory holds ``metrics.json`` (written atomically by the fit).
    Each cell is claimed first (an ``O_EXCL`` claim file), so workers sharing the grid directory split the
    cells between them; a cell alive on SLURM is left to the scheduler. An interrupted cell with
    ``checkpoints/last.ckpt`` continues (``losslab fit --resume``); without one its files are moved to
    ``<cell>.interrupted-<timestamp>`` and it starts afresh. A failing cell gets a record in
    ``<cell>.failed.json`` and the grid goes on; it is retried by later runs until it failed
    ``max_failures`` times.

    Args:
        cells: The cells to run, in order.
        layout: The grid's directory.
        launcher: Runs one cell's ``losslab`` command.
        retry_failed: Run cells that failed ``max_failures`` times too.
        out: Where progress lines go (default: standard output).
        reader: Cell states (default: files, claims and the scheduler for cells submitted to SLURM).
        max_failures: Failed attempts after which a cell is no longer retried.
        should_stop: Asked before each cell; ``True`` leaves the remaining cells for a later run.
    """

    def __init__(
        self,
        cells: Sequence[GridCell],
        layout: GridLayout,
        launcher: CellLauncher,
        retry_failed: bool = False,
        out: TextIO | None = None,
        reader: CellStateReader | None = None,
        max_failures: int = MAX_FAILURES,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.cells = list(cells)
        self.layout = layout
        self.launcher = launcher
        self.retry_failed = retry_failed
        self.out = out or sys.stdout
        self.reader = reader or CellStateReader(layout)
        self.max_failures = max_failures
        self.should_stop = should_stop or (lambda: False)

    def _skip_reason(self, state: CellState) -> str | None:
        if state.runnable(self.max_failures, self.retry_failed):
            return None
        if state.status is CellStatus.FAILED:
            return f"failed {state.failures} times (use --retry-failed)"
        if state.job_id and state.alive:
            return f"{state.status.value} as SLURM job {state.job_id}"
        return state.status.value

    def run(self) -> Counter[str]:
        """Run the cells.

        Returns:
            How many cells ended in each state (``done``, ``failed``, ``skipped``).
        """
        self.layout.root.mkdir(parents=True, exist_ok=True)
        outcome: Counter[str] = Counter()
        for cell in self.cells:
            if self.should_stop():
                print(
                    f"stop requested: cells from [{cell.index}] {cell.cell_id} on are left for a later run",
                    file=self.out,
                )
                break
            reason = self._skip_reason(self.reader.read(cell))
            claim = None if reason else CellClaim.acquire(self.layout.claim_path(cell))
            if claim is None:
                print(
                    f"[{cell.index}] {cell.cell_id}: skipped ({reason or 'claimed by another worker'})", file=self.out
                )
                outcome["skipped"] += 1
                continue
            try:
                # Re-read under the claim: another worker may have finished the cell meanwhile.
                state = self.reader.read(cell, claimed_here=True)
                reason = self._skip_reason(state)
                if reason:
                    print(f"[{cell.index}] {cell.cell_id}: skipped ({reason})", file=self.out)
                    outcome["skipped"] += 1
                    continue
                outcome[self._run_cell(cell, claim, state)] += 1
            finally:
                claim.release()
        return outcome

    def _run_cell(self, cell: GridCell, claim: CellClaim, state: CellState) -> str:
        run_dir = self.layout.run_dir(cell)
        if self.layout.last_checkpoint(cell).is_file():
            print(f"[{cell.index}] {cell.cell_id}: {state.status.value} before, resuming from last.ckpt", file=self.out)
        else:
            moved = set_aside(run_dir, state.status.value)
            if moved is not None:
                print(
                    f"[{cell.index}] {cell.cell_id}: {state.status.value} before, moved aside to {moved.name}",
                    file=self.out,
                )
            run_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_json(run_dir / CELL_FILE, cell.to_json())
        print(f"[{cell.index}] {cell.cell_id}: running (logs in {run_dir})", file=self.out, flush=True)
        started = time.monotonic()
        result = self.launcher(cell_fit_args(run_dir), run_dir, claim.add_pid)
        elapsed = time.monotonic() - started
        # metrics.json is the only proof of a finished cell, whatever the exit code says.
        if self.layout.metrics(cell) is not None:
            print(f"[{cell.index}] {cell.cell_id}: done in {elapsed:.0f} s", file=self.out)
            return CellStatus.DONE.value
        record = {
            "cell_id": cell.cell_id,
            "returncode": result.returncode,
            "stderr_tail": result.stderr_tail,
            "log": str(run_dir / "stderr.log"),
            "elapsed_s": round(elapsed, 1),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        failures = self.layout.record_failure(cell, record)
        last = result.stderr_tail.splitlines()[-1] if result.stderr_tail else ""
        print(
            f"[{cell.index}] {cell.cell_id}: FAILED (exit {result.returncode}; failure {failures}/{self.max_failures}) "
            f"{last}",
            file=self.out,
        )
        return CellStatus.FAILED.value
