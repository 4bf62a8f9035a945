"""Run a command inside a SLURM task so that the command, not the task's process, owns its signals."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from types import FrameType


def _note_signal(signum: int, frame: FrameType | None) -> None:
    print(f"launcher: got {signal.Signals(signum).name}; left to the command", file=sys.stderr, flush=True)


def run_task_command(command: Sequence[str], env: Mapping[str, str] | None = None) -> int:
    """Run ``command`` to completion, its output going to this process's own streams.

    SLURM signals every process of a task: SIGUSR1 before the time limit is the command's to handle (a
    Lightning fit checkpoints and requeues the task) and must not kill this parent first. A Python handler,
    unlike ``SIG_IGN``, is not inherited by the command, which starts with the default and installs its own.

    Returns:
        The command's exit code (negative: killed by that signal).
    """
    previous = signal.signal(signal.SIGUSR1, _note_signal)
    try:
        return subprocess.run(list(command), env=None if env is None else dict(env), check=False).returncode
    finally:
        signal.signal(signal.SIGUSR1, previous)
