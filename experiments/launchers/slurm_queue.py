"""The scheduler's view of submitted jobs, read from ``squeue`` (the source of truth for what is alive).

``sacct`` needs an accounting database that many clusters' users (and the test cluster) do not have, and
submitit's ``job.result()`` waits forever for a job that died without writing a result; ``squeue
--states=all`` answers for pending, running and recently ended jobs everywhere.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

# Job states in which the job still holds (or waits for) resources; anything else has ended.
ALIVE_STATES = frozenset(
    {
        "PENDING",
        "CONFIGURING",
        "RUNNING",
        "COMPLETING",
        "SUSPENDED",
        "REQUEUED",
        "REQUEUE_FED",
        "REQUEUE_HOLD",
        "RESIZING",
        "SIGNALING",
        "STAGE_OUT",
        "STOPPED",
        "RESV_DEL_HOLD",
    }
)
_FIELDS = ("JobArrayID", "State", "Reason", "RestartCnt")
_UNKNOWN_JOB = "Invalid job id specified"


class SchedulerError(RuntimeError):
    """``squeue`` failed for a reason other than "these jobs are gone" (controller down, bad config)."""


@dataclass(frozen=True)
class JobInfo:
    """One job (or array task) as the scheduler sees it.

    Args:
        job_id: ``<array job id>_<task>`` for an array task, else the job id.
        state: SLURM job state (``PENDING``, ``RUNNING``, ``COMPLETED``, ``CANCELLED``, ``TIMEOUT`` ...).
        reason: Why it waits or why it ended (``Priority``, ``PartitionTimeLimit``, ``None`` ...).
        restarts: How often it was requeued (preemption, node failure, time-limit requeue).
    """

    job_id: str
    state: str
    reason: str = "None"
    restarts: int = 0

    @property
    def alive(self) -> bool:
        """The job still runs or waits to run."""
        return self.state in ALIVE_STATES


Runner = Callable[[Sequence[str]], subprocess.CompletedProcess]


def _run(command: Sequence[str]) -> subprocess.CompletedProcess:
    return subprocess.run(list(command), capture_output=True, text=True, timeout=120, check=False)


class SlurmQueue:
    """Asks ``squeue`` about jobs.

    Args:
        run: Runs a command and returns its completed process (tests pass a recorder).
    """

    def __init__(self, run: Runner = _run) -> None:
        self._run = run

    def jobs(self, job_ids: Iterable[str]) -> dict[str, JobInfo]:
        """The scheduler's view of ``job_ids``; ids the scheduler no longer knows are absent.

        Raises:
            SchedulerError: When ``squeue`` cannot answer (an absent job is not an error).
        """
        wanted = set(job_ids)
        if not wanted:
            return {}
        # Ask by array job id: one query per array, every task (-r: one line per task, pending ones too).
        arrays = sorted({job_id.split("_", 1)[0] for job_id in wanted})
        fields = ",".join(f"{name}:|" for name in _FIELDS)
        command = ["squeue", "--noheader", "--array", "--states=all", "-j", ",".join(arrays), "-O", fields]
        try:
            done = self._run(command)
        except FileNotFoundError:
            raise SchedulerError(
                f"jobs {', '.join(sorted(wanted))} were submitted to SLURM, but squeue is not on PATH here; "
                "ask on a machine of that cluster"
            ) from None
        if done.returncode != 0:
            if _UNKNOWN_JOB in done.stderr:
                return {}
            message = (done.stderr.strip() or done.stdout.strip() or f"exit code {done.returncode}").splitlines()
            raise SchedulerError(f"squeue failed: {message[-1]}")
        found = {}
        for line in done.stdout.splitlines():
            parts = [part.strip() for part in line.split("|")]
            if len(parts) < len(_FIELDS) or parts[0] not in wanted:
                continue
            job_id, state, reason, restarts = parts[: len(_FIELDS)]
            found[job_id] = JobInfo(job_id, state, reason, int(restarts) if restarts.isdigit() else 0)
        return found

    def wait(self, job_ids: Sequence[str], poll_s: float = 2.0, timeout_s: float | None = None) -> dict[str, JobInfo]:
        """Poll until none of ``job_ids`` is alive.

        Returns:
            Their last known states (an id the scheduler forgot is absent).

        Raises:
            TimeoutError: After ``timeout_s`` seconds with jobs still alive.
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            jobs = self.jobs(job_ids)
            alive = sorted(job_id for job_id, job in jobs.items() if job.alive)
            if not alive:
                return jobs
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"jobs still alive after {timeout_s:.0f} s: {', '.join(alive)}")
            time.sleep(poll_s)
