"""Submit callables as one SLURM job array through submitit; check the request with the scheduler first."""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import submitit
from submitit.core.utils import FailedJobError
from submitit.slurm.slurm import _make_sbatch_string

from experiments.launchers.slurm_options import SlurmOptions
from experiments.launchers.slurm_preflight import (
    SlurmRequestError,
    check_batch_script,
    check_time_limit,
    require_slurm,
)
from experiments.launchers.slurm_queue import SlurmQueue
from experiments.launchers.task_command import run_task_command
from experiments.launchers.worker_group import WORKER_INDEX_ENV, WorkerOutcome


@dataclass(frozen=True)
class TaskResources:
    """The shape of one array task: ``nodes`` × ``tasks_per_node`` processes (one per device for a cell).

    Args:
        nodes: Nodes per task (``trainer.num_nodes``).
        tasks_per_node: Processes per node, started by ``srun`` (``trainer.devices``).
    """

    nodes: int = 1
    tasks_per_node: int = 1


@dataclass(frozen=True)
class SubmittedTask:
    """One submitted array task and its logs (those of its global rank 0).

    Args:
        job_id: ``<array job id>_<index>`` (a plain job id when the array had one task).
        stdout: Its standard output.
        stderr: Its standard error.
    """

    job_id: str
    stdout: Path
    stderr: Path


class WorkerCommand:
    """One worker of an array: run ``command`` with ``LOSSLAB_WORKER_INDEX`` set (pickled by submitit).

    Args:
        command: The worker's command line.
        index: The worker's index in its array.
    """

    def __init__(self, command: Sequence[str], index: int) -> None:
        self.command = list(command)
        self.index = index

    def __call__(self) -> None:
        """Run the command (output goes to the task's own log); raise if it fails, so the task FAILS."""
        code = run_task_command(self.command, {**os.environ, WORKER_INDEX_ENV: str(self.index)})
        if code != 0:
            raise RuntimeError(f"worker {self.index}: {shlex.join(self.command)} exited with code {code}")


class SlurmLauncher:
    """Submits one job array per call; the batch script, pickles and logs live in ``folder``.

    ``folder`` must be on a filesystem that the compute nodes share (so must the run directories). Each
    task gets SIGUSR1 ``signal_delay_s`` before its time limit: Lightning's SLURM environment (auto-requeue)
    checkpoints and requeues the task, which then runs the same callable again.

    Args:
        options: Partition, time, CPUs, GPUs, memory, extra sbatch flags.
        folder: submitit's folder (batch scripts, pickles, ``<job>_<task>_log.{out,err}``).
    """

    def __init__(self, options: SlurmOptions, folder: Path) -> None:
        self.options = options
        self.folder = Path(folder).absolute()
        self.queue = SlurmQueue()

    def _executor(self, name: str, resources: TaskResources) -> submitit.SlurmExecutor:
        executor = submitit.SlurmExecutor(folder=self.folder)
        executor.update_parameters(**self.options.submitit_parameters(name, resources.nodes, resources.tasks_per_node))
        return executor

    def batch_script(self, name: str, count: int, resources: TaskResources) -> str:
        """The batch script submitit will submit for an array of ``count`` tasks."""
        executor = self._executor(name, resources)
        # submitit's own script writer, so that the check below judges exactly what will be submitted.
        return _make_sbatch_string(
            command=executor._submitit_command_str,
            folder=executor.folder,
            map_count=count if count > 1 else None,
            **executor.parameters,
        )

    def check(self, name: str, count: int, resources: TaskResources) -> None:
        """Ask the scheduler whether it would run this array (``sbatch --test-only``, partition MaxTime).

        Raises:
            SlurmUnavailableError: No SLURM client commands here.
            SlurmRequestError: The scheduler's reason for refusing.
        """
        require_slurm()
        check_batch_script(self.batch_script(name, count, resources))
        check_time_limit(self.options.partition, self.options.time_min)

    def submit(self, calls: Sequence[Callable[[], object]], name: str, resources: TaskResources) -> list[SubmittedTask]:
        """Submit ``calls[i]()`` as task ``i`` of one array (pickled; importable on the nodes); returns at once.

        Raises:
            SlurmRequestError: If sbatch refuses the array (nothing is queued then).
        """
        if not calls:
            return []
        require_slurm()
        executor = self._executor(name, resources)
        try:
            with executor.batch():
                jobs = [executor.submit(call) for call in calls]
        except FailedJobError as err:
            lines = [line for line in str(err).splitlines() if "error" in line.lower()] or str(err).splitlines()
            raise SlurmRequestError(f"sbatch refused the array: {lines[0] if lines else err}") from None
        return [SubmittedTask(job.job_id, job.paths.stdout, job.paths.stderr) for job in jobs]

    def start_workers(self, command: Sequence[str], count: int, name: str) -> SlurmWorkerGroup:
        """``count`` copies of ``command`` as one array (worker ``i`` sees ``LOSSLAB_WORKER_INDEX=i``).

        Raises:
            SlurmUnavailableError, SlurmRequestError: As :meth:`check`.
        """
        if count < 1:
            raise ValueError(f"count={count}: expected at least one worker")
        resources = TaskResources()
        self.check(name, count, resources)
        workers = [WorkerCommand(command, index) for index in range(count)]
        return SlurmWorkerGroup(self.submit(workers, name, resources), self.queue)


class SlurmWorkerGroup:
    """The tasks of a worker array; their states come from ``squeue``.

    Args:
        tasks: The submitted tasks, in index order.
        queue: The scheduler.
    """

    def __init__(self, tasks: list[SubmittedTask], queue: SlurmQueue) -> None:
        self.tasks = tasks
        self.queue = queue

    @property
    def worker_ids(self) -> list[str]:
        """The array task ids."""
        return [task.job_id for task in self.tasks]

    def wait(self, timeout_s: float | None = None) -> list[WorkerOutcome]:
        """Poll the scheduler until no worker is alive (``TimeoutError`` after ``timeout_s``)."""
        jobs = self.queue.wait(self.worker_ids, timeout_s=timeout_s)
        outcomes = []
        for task in self.tasks:
            state = jobs[task.job_id].state if task.job_id in jobs else "UNKNOWN (no longer known to squeue)"
            outcomes.append(WorkerOutcome(task.job_id, state == "COMPLETED", state, task.stderr))
        return outcomes
