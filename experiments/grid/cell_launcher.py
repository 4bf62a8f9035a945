"""Run one cell's ``losslab fit`` as its own process, so a crash or kill loses only that cell."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

DEFAULT_PROGRAM = (sys.executable, "-m", "experiments.cli")


@dataclass(frozen=True)
class LaunchResult:
    """How a cell's process ended.

    Args:
        returncode: Exit code (negative: killed by that signal).
        stderr_tail: The last lines of its standard error.
    """

    returncode: int
    stderr_tail: str


class CellLauncher(Protocol):
    """Runs ``losslab <args>`` for a cell, writing its output into ``log_dir``."""

    def __call__(self, args: list[str], log_dir: Path, on_start: Callable[[int], None]) -> LaunchResult:
        """Run to completion; ``on_start`` receives the process id once it is started."""


class SubprocessLauncher:
    """Starts ``<program> <args>`` with stdout/stderr appended to ``log_dir/{stdout,stderr}.log``.

    Args:
        program: The command in front of the ``losslab`` arguments (default: this Python's
            ``-m experiments.cli``; tests swap in a fake).
        tail_lines: Lines of stderr kept in the failure record.
    """

    def __init__(self, program: Sequence[str] = DEFAULT_PROGRAM, tail_lines: int = 30) -> None:
        if not program:
            raise ValueError("program: expected a non-empty command")
        if tail_lines < 1:
            raise ValueError(f"tail_lines={tail_lines}: expected a positive integer")
        self.program = tuple(program)
        self.tail_lines = tail_lines

    def __call__(self, args: list[str], log_dir: Path, on_start: Callable[[int], None]) -> LaunchResult:
        """Run the cell; if this worker is interrupted, the cell's process is terminated too."""
        log_dir.mkdir(parents=True, exist_ok=True)
        stderr_path = log_dir / "stderr.log"
        offset = stderr_path.stat().st_size if stderr_path.is_file() else 0
        # Appended: a resumed cell keeps the logs of its earlier attempts.
        with open(log_dir / "stdout.log", "ab") as stdout, open(stderr_path, "ab") as stderr:
            process = subprocess.Popen([*self.program, *args], stdout=stdout, stderr=stderr)
            try:
                on_start(process.pid)
                returncode = process.wait()
            except BaseException:
                process.terminate()
                process.wait()
                raise
        with open(stderr_path, "rb") as handle:
            handle.seek(offset)
            lines = handle.read().decode("utf-8", errors="replace").splitlines()
        return LaunchResult(returncode, "\n".join(lines[-self.tail_lines :]))
