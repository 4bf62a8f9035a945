"""Submit a grid's runnable cells to SLURM: one submitit job array per cell shape, recorded per cell."""

from __future__ import annotations

import fcntl
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from experiments.atomic_io import atomic_write_json
from experiments.grid.cell_config_parser import CellConfigParser
from experiments.grid.cell_resources import cell_resources
from experiments.grid.cell_state import CellState, CellStateReader
from experiments.grid.cell_submissions import append_submission
from experiments.grid.grid_cell import CELL_FILE, GridCell
from experiments.grid.grid_layout import GridLayout, set_aside
from experiments.grid.run_cell import CellJob
from experiments.launchers.slurm_launcher import SlurmLauncher, SubmittedTask, TaskResources


@contextmanager
def _grid_lock(root: Path) -> Iterator[None]:
    # Two `grid run --launcher slurm` at once must not both submit a cell: state is re-read under the lock.
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".submit.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class SlurmGridSubmitter:
    """Submits cells as SLURM array tasks running ``CellJob`` (``run_cell``) in their run directories.

    Before anything is written, every cell's shape is derived from its own trainer settings and the
    scheduler is asked whether it would run each array (``sbatch --test-only``, partition limits).

    Args:
        layout: The grid's directory (run directories, submission records, ``_slurm/`` logs).
        launcher: Submits the arrays.
        parser: Resolves a cell's config (its ``trainer.devices``/``num_nodes``/``accelerator``).
        reader: Cell states (the scheduler's view).
        out: Where progress lines go.
    """

    def __init__(
        self,
        layout: GridLayout,
        launcher: SlurmLauncher,
        parser: CellConfigParser,
        reader: CellStateReader,
        out: TextIO | None = None,
    ) -> None:
        self.layout = layout
        self.launcher = launcher
        self.parser = parser
        self.reader = reader
        self.out = out or sys.stdout

    def plan(self, cells: Sequence[GridCell]) -> dict[TaskResources, list[GridCell]]:
        """The cells grouped by shape (nodes × tasks per node), one array per group.

        Raises:
            ValueError: A cell asks for GPUs its processes would not use (or too few).
        """
        groups: dict[TaskResources, list[GridCell]] = {}
        for cell in cells:
            trainer = self.parser.parse(cell.config_args).trainer
            groups.setdefault(cell_resources(trainer, self.launcher.options, cell.cell_id), []).append(cell)
        return groups

    def check(self, plan: dict[TaskResources, list[GridCell]]) -> None:
        """Ask the scheduler about every array (raises ``SlurmUnavailableError``/``SlurmRequestError``)."""
        for resources, cells in plan.items():
            self.launcher.check(cells[0].grid, len(cells), resources)

    def submit(self, cells: Sequence[GridCell], max_failures: int, retry_failed: bool) -> list[SubmittedTask]:
        """Check, then submit the cells that are still runnable; returns the submitted tasks.

        Raises:
            ValueError, SlurmUnavailableError, SlurmRequestError: Before anything is submitted.
        """
        if not cells:
            return []
        # Checked before anything is written: a request the scheduler refuses leaves no trace.
        self.check(self.plan(cells))
        with _grid_lock(self.layout.root):
            # Re-read under the lock: another submitter may have taken cells meanwhile (a subset of the
            # checked arrays, same shapes, so the check still holds).
            states = self.reader.read_all(cells)
            runnable = [(c, s) for c, s in zip(cells, states, strict=True) if s.runnable(max_failures, retry_failed)]
            plan = self.plan([cell for cell, _ in runnable])
            previous = {cell.cell_id: state for cell, state in runnable}
            submitted = []
            for resources, group in plan.items():
                jobs = [CellJob(self._prepare(cell)) for cell in group]
                tasks = self.launcher.submit(jobs, group[0].grid, resources)
                for cell, task in zip(group, tasks, strict=True):
                    self._record(cell, task, previous[cell.cell_id], resources)
                submitted += tasks
        return submitted

    def _prepare(self, cell: GridCell) -> Path:
        run_dir = self.layout.run_dir(cell)
        if self.layout.last_checkpoint(cell).is_file():
            return run_dir
        moved = set_aside(run_dir, "interrupted")
        if moved is not None:
            print(f"[{cell.index}] {cell.cell_id}: no last.ckpt; earlier files moved to {moved.name}", file=self.out)
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(run_dir / CELL_FILE, cell.to_json())
        return run_dir

    def _record(self, cell: GridCell, task: SubmittedTask, previous: CellState, resources: TaskResources) -> None:
        append_submission(self.layout.submissions_path(cell), task.job_id, task.stdout, task.stderr, previous.job_state)
        how = "resumes from last.ckpt" if self.layout.last_checkpoint(cell).is_file() else "fresh"
        shape = f"{resources.nodes} node(s) x {resources.tasks_per_node} task(s)"
        print(
            f"[{cell.index}] {cell.cell_id}: submitted as job {task.job_id} ({how}, {shape}; log {task.stderr})",
            file=self.out,
            flush=True,
        )
