"""What each SLURM array task asks for: partition, time limit, CPUs, GPUs, memory, further sbatch flags."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# sbatch flags losslab sets itself (from the cell's trainer settings or submitit's bookkeeping), and flags
# that have their own option here: naming them under ``sbatch`` would silently fight those.
_RESERVED_FLAGS = {
    "array": "set by the launcher (one task per cell or worker)",
    "output": "set by the launcher (logs under the grid's _slurm/ folder)",
    "error": "set by the launcher (logs under the grid's _slurm/ folder)",
    "open-mode": "set by the launcher",
    "job-name": "set by the launcher (the grid's name)",
    "nodes": "set from the cell's trainer.num_nodes",
    "ntasks-per-node": "set from the cell's trainer.devices",
    "signal": "use slurm.signal_delay_s",
    "partition": "use slurm.partition",
    "time": "use slurm.time_min",
    "cpus-per-task": "use slurm.cpus_per_task",
    "gpus-per-node": "use slurm.gpus_per_node",
    "mem": "use slurm.mem_gb",
    "account": "use slurm.account",
    "qos": "use slurm.qos",
    "constraint": "use slurm.constraint",
}


@dataclass(frozen=True)
class SlurmOptions:
    """How each task of a SLURM job array is submitted (a grid cell, or one worker of a study).

    Args:
        partition: ``sbatch --partition`` (``None``: the cluster's default partition).
        time_min: Time limit of one task in minutes (``--time``).
        cpus_per_task: CPUs of each task; a cell runs one task per device (``trainer.devices``).
        gpus_per_node: GPUs per node of a cell (``--gpus-per-node``); when a cell uses GPUs it must equal
            its ``trainer.devices``.
        mem_gb: Memory per node in GB (``--mem``; ``None``: the partition's default per CPU).
        array_parallelism: At most this many tasks of the array run at once (``None``: no limit of ours).
        account: ``--account``.
        qos: ``--qos``.
        constraint: ``--constraint`` (node features).
        signal_delay_s: SLURM sends SIGUSR1 this many seconds before the time limit, so that the fit can
            checkpoint and requeue itself (Lightning's SLURM auto-requeue signal).
        setup: Shell lines run in the batch script before the task (``module load ...``).
        sbatch: Further sbatch flags, ``{flag: value}``; ``true`` for a bare flag (``exclusive: true``).
    """

    partition: str | None = None
    time_min: int = 60
    cpus_per_task: int = 1
    gpus_per_node: int = 0
    mem_gb: float | None = None
    array_parallelism: int | None = None
    account: str | None = None
    qos: str | None = None
    constraint: str | None = None
    signal_delay_s: int = 120
    setup: tuple[str, ...] = ()
    sbatch: dict[str, str | bool] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, raw: Any, what: str = "slurm") -> SlurmOptions:
        """Read a spec's ``slurm:`` section.

        Raises:
            ValueError: Naming the key and what was expected.
        """
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ValueError(f"{what}: expected a mapping of SLURM options, got {raw!r}")
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise ValueError(f"{what}: unknown keys {unknown}; expected some of {known}")
        return cls().with_overrides(lambda key: f"{what}.{key}", **raw)

    def with_overrides(self, name_of: Callable[[str], str] = "slurm.{}".format, **values: Any) -> SlurmOptions:
        """A copy with the given options replaced (``None`` values are ignored: "not given").

        Args:
            name_of: How an option is called in error messages (``slurm.time_min``, ``--time-min``).
            **values: Option name -> new value.

        Raises:
            ValueError: Naming the option and what was expected.
        """
        given = {key: value for key, value in values.items() if value is not None}
        for key in ("partition", "account", "qos", "constraint"):
            if key in given and (not isinstance(given[key], str) or not given[key]):
                raise ValueError(f"{name_of(key)}={given[key]!r}: expected a non-empty string")
        minimums = {"time_min": 1, "cpus_per_task": 1, "gpus_per_node": 0, "signal_delay_s": 0, "array_parallelism": 1}
        for key, minimum in minimums.items():
            if key in given:
                given[key] = _integer(given[key], minimum, name_of(key))
        if "mem_gb" in given:
            mem = given["mem_gb"]
            if isinstance(mem, bool) or not isinstance(mem, int | float) or mem <= 0:
                raise ValueError(f"{name_of('mem_gb')}={mem!r}: expected a positive number of GB")
            given["mem_gb"] = float(mem)
        if "setup" in given:
            setup = given["setup"]
            if not isinstance(setup, list | tuple) or not all(isinstance(line, str) for line in setup):
                raise ValueError(f"{name_of('setup')}={setup!r}: expected a list of shell lines")
            given["setup"] = tuple(setup)
        if "sbatch" in given:
            given["sbatch"] = {**self.sbatch, **_sbatch_flags(given["sbatch"], name_of("sbatch"))}
        options = dataclasses.replace(self, **given)
        if options.signal_delay_s >= options.time_min * 60:
            # The warning would come at once, and every requeued attempt would be sent away again.
            raise ValueError(
                f"{name_of('signal_delay_s')}={options.signal_delay_s}: expected less than the time limit "
                f"({name_of('time_min')}={options.time_min} min = {options.time_min * 60} s)"
            )
        return options

    def submitit_parameters(self, job_name: str, nodes: int = 1, tasks_per_node: int = 1) -> dict[str, Any]:
        """Parameters for :meth:`submitit.SlurmExecutor.update_parameters`."""
        parameters: dict[str, Any] = {
            "job_name": job_name,
            "time": self.time_min,
            "nodes": nodes,
            "ntasks_per_node": tasks_per_node,
            "cpus_per_task": self.cpus_per_task,
        }
        optional = {
            "partition": self.partition,
            "mem": None if self.mem_gb is None else f"{round(self.mem_gb * 1024)}M",
            "account": self.account,
            "qos": self.qos,
            "constraint": self.constraint,
            "gpus_per_node": self.gpus_per_node or None,
            "array_parallelism": self.array_parallelism,
            # One compute thread per allocated CPU unless the environment says otherwise (torch would
            # start one per core of the node and oversubscribe the CPUs it shares with other tasks).
            "setup": ["export OMP_NUM_THREADS=${OMP_NUM_THREADS:-${SLURM_CPUS_PER_TASK:-1}}", *self.setup],
            # SIGUSR1 before the time limit is Lightning's SLURM requeue signal (submitit's default is USR2,
            # for which the fit installs no handler): Lightning's SLURM environment checkpoints and requeues.
            "additional_parameters": {**self.sbatch, "signal": f"USR1@{self.signal_delay_s}"},
        }
        parameters.update({key: value for key, value in optional.items() if value is not None})
        return parameters


def parse_sbatch_flag(text: str) -> tuple[str, str | bool]:
    """``exclude=node3`` -> ``("exclude", "node3")``; ``exclusive`` -> ``("exclusive", True)`` (``--sbatch``)."""
    key, sep, value = text.partition("=")
    return key, (value if sep else True)


def _integer(value: Any, minimum: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{what}={value!r}: expected an integer >= {minimum}")
    return value


def _sbatch_flags(raw: Any, what: str) -> dict[str, str | bool]:
    if not isinstance(raw, dict):
        raise ValueError(f"{what}: expected a mapping of sbatch flags to values, got {raw!r}")
    flags: dict[str, str | bool] = {}
    for key, value in raw.items():
        flag = str(key).removeprefix("--").replace("_", "-")
        if not flag or flag.startswith("-"):
            raise ValueError(f"{what}: {key!r} is not an sbatch flag name")
        if flag in _RESERVED_FLAGS:
            raise ValueError(f"{what}.{flag}: {_RESERVED_FLAGS[flag]}")
        if value is True:
            flags[flag] = True
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            flags[flag] = str(value)
        else:
            raise ValueError(f"{what}.{flag}={value!r}: expected a string or number, or true for a bare flag")
    return flags
