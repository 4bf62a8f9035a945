"""Run one grid cell from its run directory: ``python -m experiments.grid.run_cell <run_dir>``.

The cell is read from ``<run_dir>/grid_cell.json``. With ``checkpoints/last.ckpt`` present the run is
continued (``losslab fit --resume <run_dir>``); otherwise an earlier attempt's files are set aside and the
cell's ``losslab fit`` starts afresh. A SLURM job that is requeued runs this same entry point again, so it
resumes by itself.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from experiments.grid.grid_cell import CELL_FILE, GridCell
from experiments.grid.grid_layout import LAST_CHECKPOINT, METRICS_FILE, set_aside
from experiments.launchers.task_command import run_task_command

# Files a fresh start keeps: the cell itself and the local launcher's logs (already open for this attempt).
KEEP_ON_FRESH_START = (CELL_FILE, "stdout.log", "stderr.log")

Fit = Callable[[Sequence[str]], int]


class CellFailedError(RuntimeError):
    """The cell's fit failed or ended without ``metrics.json``."""


def cell_fit_args(run_dir: Path) -> list[str]:
    """The ``losslab`` arguments that continue or start the cell in ``run_dir``."""
    if (run_dir / LAST_CHECKPOINT).is_file():
        return ["fit", "--resume", str(run_dir)]
    cell = GridCell.from_json(json.loads((run_dir / CELL_FILE).read_text(encoding="utf-8")))
    return cell.fit_args(run_dir)


def _global_rank() -> int:
    # Under srun every task of a multi-device cell runs this entry point; SLURM numbers them.
    return int(os.environ.get("SLURM_PROCID", "0"))


def _losslab(args: Sequence[str]) -> int:
    # Its own process: the fit owns the task's signals (Lightning's SLURM requeue), and importing the
    # CLI here would tie the grid package back to the command that dispatches to it.
    return run_task_command([sys.executable, "-m", "experiments.cli", *args])


def run_cell(run_dir: Path, fit: Fit = _losslab) -> None:
    """Resume or start the cell in ``run_dir``.

    Args:
        run_dir: The cell's run directory (holding ``grid_cell.json``).
        fit: Runs ``losslab <args>`` and returns its exit code (default: a ``python -m experiments.cli``
            process).

    Raises:
        CellFailedError: If the fit exits non-zero, or (rank 0) ends without ``metrics.json``.
    """
    run_dir = Path(run_dir).absolute()
    if (run_dir / METRICS_FILE).is_file():
        # A job requeued after its fit had finished (a node lost during teardown): the result stands.
        print(f"run_cell: {run_dir.name} is done ({METRICS_FILE} exists); nothing to run", flush=True)
        return
    rank_zero = _global_rank() == 0
    if rank_zero and not (run_dir / LAST_CHECKPOINT).is_file():
        moved = set_aside(run_dir, "interrupted", keep=KEEP_ON_FRESH_START)
        if moved is not None:
            print(f"run_cell: no {LAST_CHECKPOINT}; the earlier attempt's files are in {moved}", flush=True)
    args = cell_fit_args(run_dir)
    print(f"run_cell: losslab {shlex.join(args)}", flush=True)
    code = fit(args)
    if code != 0:
        raise CellFailedError(f"{run_dir.name}: losslab fit exited with code {code}")
    # Other ranks end before rank 0 has evaluated and written metrics.json.
    if rank_zero and not (run_dir / METRICS_FILE).is_file():
        raise CellFailedError(f"{run_dir.name}: losslab fit ended without {METRICS_FILE}")


class CellJob:
    """The callable a SLURM array task runs (pickled by submitit): :func:`run_cell` on one run directory.

    Args:
        run_dir: The cell's run directory, on a filesystem the compute nodes share.
    """

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir).absolute()

    def __call__(self) -> None:
        """Run the cell."""
        run_cell(self.run_dir)

    def __repr__(self) -> str:
        return f"CellJob({str(self.run_dir)!r})"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m experiments.grid.run_cell RUN_DIR``; returns 0, or 1 when the cell failed."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 1:
        print("usage: python -m experiments.grid.run_cell RUN_DIR", file=sys.stderr)
        return 2
    try:
        run_cell(Path(argv[0]))
    except CellFailedError as err:
        print(f"run_cell: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
