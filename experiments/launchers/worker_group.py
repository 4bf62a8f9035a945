"""N identical workers (a study's trial workers, say) started by a launcher, and how each one ended."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# Each worker finds its index (0..N-1) here, whichever launcher started it.
WORKER_INDEX_ENV = "LOSSLAB_WORKER_INDEX"


@dataclass(frozen=True)
class WorkerOutcome:
    """How one worker ended.

    Args:
        worker_id: Its id: the SLURM array task (``123_1``) or the local process id.
        ok: It exited successfully.
        state: ``COMPLETED``/``FAILED``/... (SLURM) or ``exit <code>`` (local).
        log: Its standard error.
    """

    worker_id: str
    ok: bool
    state: str
    log: Path


class WorkerGroup(Protocol):
    """Workers that were started together."""

    @property
    def worker_ids(self) -> list[str]:
        """One id per worker, in index order."""

    def wait(self, timeout_s: float | None = None) -> list[WorkerOutcome]:
        """Block until every worker has ended; outcomes in index order."""


class WorkerLauncher(Protocol):
    """Starts ``count`` copies of one command; worker ``i`` sees ``LOSSLAB_WORKER_INDEX=i``."""

    def start_workers(self, command: Sequence[str], count: int, name: str) -> WorkerGroup:
        """Start the workers and return at once."""


class LocalWorkerGroup:
    """Worker processes on this machine.

    Args:
        processes: The started processes, in index order.
        logs: Their standard-error files.
    """

    def __init__(self, processes: list[subprocess.Popen], logs: list[Path]) -> None:
        self.processes = processes
        self.logs = logs

    @property
    def worker_ids(self) -> list[str]:
        """The process ids."""
        return [str(process.pid) for process in self.processes]

    def wait(self, timeout_s: float | None = None) -> list[WorkerOutcome]:
        """Wait for every process (``subprocess.TimeoutExpired`` after ``timeout_s`` in all)."""
        codes = [process.wait(timeout=timeout_s) for process in self.processes]
        return [
            WorkerOutcome(str(process.pid), code == 0, f"exit {code}", log)
            for process, code, log in zip(self.processes, codes, self.logs, strict=True)
        ]


class LocalWorkers:
    """Starts workers as subprocesses of this one, logs in ``log_dir/<name>-<i>.{out,err}``.

    Args:
        log_dir: Where the workers' logs go.
    """

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir

    def start_workers(self, command: Sequence[str], count: int, name: str) -> LocalWorkerGroup:
        """Start ``count`` copies of ``command`` at once."""
        if count < 1:
            raise ValueError(f"count={count}: expected at least one worker")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        processes, logs = [], []
        for index in range(count):
            stem = self.log_dir / f"{name}-{index}"
            with open(f"{stem}.out", "ab") as stdout, open(f"{stem}.err", "ab") as stderr:
                env = {**os.environ, WORKER_INDEX_ENV: str(index)}
                processes.append(subprocess.Popen(list(command), stdout=stdout, stderr=stderr, env=env))
            logs.append(Path(f"{stem}.err"))
        return LocalWorkerGroup(processes, logs)
