"""The SLURM submissions of one cell, ``<grid>/<cell>.slurm.json``: job ids, logs, how each attempt ended."""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

from experiments.atomic_io import atomic_write_json

# An attempt that ended like this was pushed out, not broken: it does not count towards the failure cap.
NOT_A_FAILURE = frozenset({"PREEMPTED"})


@dataclass(frozen=True)
class Submission:
    """One submission of a cell.

    Args:
        job_id: The SLURM array task id (``123_4``).
        submitted: When (ISO 8601).
        stdout: The task's standard output (rank 0).
        stderr: The task's standard error (rank 0).
        end_state: How it ended, as the scheduler last reported it; recorded when the cell is resubmitted
            (``None`` while it is the latest attempt).
    """

    job_id: str
    submitted: str
    stdout: str
    stderr: str
    end_state: str | None = None

    @property
    def failed(self) -> bool:
        """It ended, and not by preemption."""
        return self.end_state is not None and self.end_state not in NOT_A_FAILURE


def load_submissions(path: Path) -> list[Submission]:
    """The cell's submissions, oldest first (none when the file does not exist)."""
    if not path.is_file():
        return []
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [Submission(**record) for record in raw["submissions"]]


def append_submission(path: Path, job_id: str, stdout: Path, stderr: Path, previous_end: str | None) -> None:
    """Record a new submission; the previous one's end state is written down first.

    Args:
        path: The cell's ``.slurm.json``.
        job_id: The new array task id.
        stdout: Its standard output.
        stderr: Its standard error.
        previous_end: How the previous attempt ended (its scheduler state), if there was one.
    """
    submissions = load_submissions(path)
    if submissions and submissions[-1].end_state is None:
        submissions[-1] = dataclasses.replace(submissions[-1], end_state=previous_end or "UNKNOWN")
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    submissions.append(Submission(job_id, now, str(stdout), str(stderr)))
    atomic_write_json(path, {"submissions": [dataclasses.asdict(s) for s in submissions]})
