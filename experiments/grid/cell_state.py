"""A cell's state from its files, its local claim and, for cells submitted to SLURM, the scheduler.

For a SLURM cell the scheduler is the source of truth: its latest job is alive while ``squeue`` says so,
whatever files it left; a job that ended without ``metrics.json`` (cancelled, failed, out of memory, node
failure, time limit, forgotten by the scheduler) is a failed attempt, unless it was preempted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from experiments.grid.cell_submissions import NOT_A_FAILURE, Submission, load_submissions
from experiments.grid.grid_cell import GridCell
from experiments.grid.grid_layout import CellStatus, GridLayout
from experiments.launchers.slurm_queue import JobInfo, SlurmQueue

# Alive jobs in these states wait for resources; every other alive state holds them.
WAITING_STATES = frozenset({"PENDING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESV_DEL_HOLD"})
# The latest job of a cell is no longer known to the scheduler (purged after MinJobAge): it has ended.
FORGOTTEN = "UNKNOWN"


@dataclass(frozen=True)
class CellState:
    """Where a cell stands.

    Args:
        status: Done, running, pending, preempted, failed, interrupted or refused.
        alive: A live local worker or a SLURM job that still runs or waits holds the cell.
        job_id: The latest SLURM job of the cell (``123_4``), if it was ever submitted.
        job_state: The scheduler's state of that job (``PENDING``, ``CANCELLED``, ``UNKNOWN`` when forgotten).
        reason: The scheduler's reason (why it waits, or why it ended).
        failures: Failed attempts so far (local and SLURM; preemptions do not count).
        log: Where to look: the latest failure's standard error.
    """

    status: CellStatus
    alive: bool = False
    job_id: str | None = None
    job_state: str | None = None
    reason: str | None = None
    failures: int = 0
    log: str | None = None

    def runnable(self, max_failures: int, retry_failed: bool = False) -> bool:
        """Whether ``grid run`` should (re)start the cell.

        Args:
            max_failures: A cell that failed this many times is left alone ...
            retry_failed: ... unless this is set.
        """
        if self.alive or self.status in (CellStatus.DONE, CellStatus.REFUSED, CellStatus.RUNNING):
            return False
        if self.status is CellStatus.FAILED:
            return retry_failed or self.failures < max_failures
        return True


class CellStateReader:
    """Reads cell states; asks the scheduler (one ``squeue`` call per read) only about submitted cells.

    Args:
        layout: The grid's directory.
        queue: The scheduler (default: ``squeue`` on this machine).
    """

    def __init__(self, layout: GridLayout, queue: SlurmQueue | None = None) -> None:
        self.layout = layout
        self.queue = queue or SlurmQueue()

    def read(self, cell: GridCell, claimed_here: bool = False) -> CellState:
        """One cell's state (``claimed_here``: the caller holds its local claim)."""
        return self.read_all([cell], claimed_here)[0]

    def read_all(self, cells: Sequence[GridCell], claimed_here: bool = False) -> list[CellState]:
        """The states of ``cells``, in order.

        Raises:
            SchedulerError: Some cell was submitted to SLURM and ``squeue`` cannot answer.
        """
        submissions = {cell.cell_id: load_submissions(self.layout.submissions_path(cell)) for cell in cells}
        latest = [records[-1].job_id for records in submissions.values() if records]
        jobs = self.queue.jobs(latest) if latest else {}
        return [self._resolve(cell, submissions[cell.cell_id], jobs, claimed_here) for cell in cells]

    def _resolve(
        self, cell: GridCell, submissions: list[Submission], jobs: dict[str, JobInfo], claimed_here: bool
    ) -> CellState:
        status = self.layout.status(cell, claimed_here)
        local_failures = self.layout.failures(cell)
        failures = len(local_failures) + sum(s.failed for s in submissions)
        latest = submissions[-1] if submissions else None
        job_id = latest.job_id if latest else None
        if status in (CellStatus.REFUSED, CellStatus.DONE, CellStatus.RUNNING):
            return CellState(status, alive=status is CellStatus.RUNNING, job_id=job_id, failures=failures)
        if latest is None:
            log = local_failures[-1].get("log") if local_failures else None
            return CellState(status, failures=failures, log=log)
        job = jobs.get(latest.job_id)
        if job is not None and job.alive:
            if job.state not in WAITING_STATES:
                status = CellStatus.RUNNING
            else:
                # A requeued job waits again: preempted (or timed out and requeued), it resumes by itself.
                status = CellStatus.PREEMPTED if job.restarts else CellStatus.PENDING
            return CellState(status, True, job_id, job.state, job.reason, failures, latest.stderr)
        state = job.state if job is not None else FORGOTTEN
        reason = job.reason if job is not None else "no longer known to the scheduler"
        if state in NOT_A_FAILURE:
            return CellState(CellStatus.PREEMPTED, False, job_id, state, reason, failures, latest.stderr)
        return CellState(CellStatus.FAILED, False, job_id, state, reason, failures + 1, latest.stderr)
