"""Checks before a job array is submitted: SLURM is there, and the scheduler accepts what is asked for."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence

REQUIRED_COMMANDS = ("sbatch", "squeue", "srun", "scontrol")


class SlurmUnavailableError(RuntimeError):
    """The SLURM client commands are not installed (or not on ``PATH``) here."""


class SlurmRequestError(ValueError):
    """The scheduler would not run what is asked for (unknown partition, impossible resources, bad flag)."""


def require_slurm(commands: Sequence[str] = REQUIRED_COMMANDS) -> None:
    """Raise unless every SLURM client command is on ``PATH``.

    Raises:
        SlurmUnavailableError: Naming the missing commands.
    """
    missing = [command for command in commands if shutil.which(command) is None]
    if missing:
        raise SlurmUnavailableError(
            f"--launcher slurm: {', '.join(missing)} not found on PATH; run this on a SLURM login node "
            "(or start the local test cluster: bash scripts/slurm_cluster.sh start)"
        )


def check_batch_script(script: str) -> None:
    """Let ``sbatch --test-only`` judge the exact batch script that would be submitted; nothing is queued.

    Raises:
        SlurmRequestError: With sbatch's own reason (unknown partition, resources no node has, bad flag).
    """
    done = subprocess.run(
        ["sbatch", "--test-only"], input=script, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        lines = [line.removeprefix("sbatch: ").removeprefix("error: ") for line in done.stderr.strip().splitlines()]
        lines = [line for line in lines if line and not line.startswith("Try ")]
        raise SlurmRequestError(f"sbatch --test-only rejected the request: {'; '.join(lines) or done.returncode}")


def check_time_limit(partition: str | None, time_min: int) -> None:
    """A time limit above the partition's MaxTime is accepted by sbatch but then pends forever: refuse it.

    Raises:
        SlurmRequestError: Naming the partition, its MaxTime and the requested time.
    """
    command = ["scontrol", "show", "partition", "--oneliner", *([partition] if partition else [])]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise SlurmRequestError(f"partition {partition!r}: {done.stderr.strip() or done.stdout.strip()}")
    for line in done.stdout.splitlines():
        fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
        if partition is None and fields.get("Default") != "YES":
            continue
        limit = parse_slurm_minutes(fields.get("MaxTime", "UNLIMITED"))
        if limit is not None and time_min > limit:
            raise SlurmRequestError(
                f"slurm.time_min={time_min} exceeds the MaxTime of partition {fields.get('PartitionName')} "
                f"({fields['MaxTime']} = {limit:g} min); ask for less time or another partition"
            )
        return


def parse_slurm_minutes(text: str) -> float | None:
    """A SLURM duration (``MM``, ``MM:SS``, ``HH:MM:SS``, ``D-HH[:MM[:SS]]``) in minutes; ``None``: unlimited.

    Raises:
        ValueError: If ``text`` is not a SLURM duration.
    """
    if text.upper() in {"UNLIMITED", "INFINITE", "NONE"}:
        return None
    match = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", text)
    if match is None:
        raise ValueError(f"{text!r} is not a SLURM duration")
    days, first, second, third = (int(group) if group else None for group in match.groups())
    if days is not None:
        hours, minutes, seconds = first, second or 0, third or 0
    elif third is not None:
        hours, minutes, seconds = first, second, third
    else:
        hours, minutes, seconds = 0, first, second or 0
    return (days or 0) * 1440 + hours * 60 + minutes + seconds / 60
