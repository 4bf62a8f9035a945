"""Command-line flags for SLURM options (``losslab grid run``, ``losslab tune``); they override the spec's."""

from __future__ import annotations

import argparse

from experiments.launchers import LAUNCHERS
from experiments.launchers.slurm_options import SlurmOptions, parse_sbatch_flag

# SlurmOptions fields set by a flag of the same name (--time-min -> time_min).
_OPTION_FLAGS = (
    "partition",
    "time_min",
    "cpus_per_task",
    "gpus_per_node",
    "mem_gb",
    "array_parallelism",
    "account",
    "qos",
    "constraint",
)


def add_launcher_arguments(parser: argparse.ArgumentParser) -> None:
    """``--launcher local|slurm`` and the SLURM options (each overrides the spec's ``slurm:`` section)."""
    parser.add_argument(
        "--launcher",
        choices=LAUNCHERS,
        default="local",
        help="local: subprocesses on this machine (default); slurm: one submitit job array on the cluster",
    )
    group = parser.add_argument_group("SLURM (--launcher slurm; each flag overrides the spec's slurm: section)")
    group.add_argument("--partition", default=None, help="sbatch --partition (default: the cluster's default)")
    group.add_argument("--time-min", type=int, default=None, help="time limit per task in minutes (default 60)")
    group.add_argument("--cpus-per-task", type=int, default=None, help="CPUs per task; a cell has one task per device")
    group.add_argument("--gpus-per-node", type=int, default=None, help="GPUs per node; must equal trainer.devices")
    group.add_argument("--mem-gb", type=float, default=None, help="memory per node in GB (default: DefMemPerCPU)")
    group.add_argument("--array-parallelism", type=int, default=None, help="at most this many tasks run at once")
    group.add_argument("--account", default=None, help="sbatch --account")
    group.add_argument("--qos", default=None, help="sbatch --qos")
    group.add_argument("--constraint", default=None, help="sbatch --constraint")
    group.add_argument(
        "--sbatch",
        action="append",
        default=None,
        metavar="FLAG[=VALUE]",
        help="any further sbatch flag, e.g. --sbatch exclude=node3 --sbatch exclusive (repeatable)",
    )


def slurm_options_from_args(base: SlurmOptions, args: argparse.Namespace) -> SlurmOptions:
    """``base`` (the spec's options) with the flags given on the command line.

    Raises:
        ValueError: Naming the flag and what was expected.
    """
    given = {name: getattr(args, name) for name in _OPTION_FLAGS}
    if args.sbatch:
        given["sbatch"] = dict(parse_sbatch_flag(text) for text in args.sbatch)
    return base.with_overrides(lambda key: "--" + key.replace("_", "-"), **given)
