"""Launchers: run the cells of a grid or the workers of a study, here or on a cluster.

A launcher is a seam, not a runner: ``local`` starts subprocesses on this machine, ``slurm`` submits a
submitit job array and leaves the scheduler in charge; either way a cell is a plain ``losslab fit`` run
directory. The scheduler (``squeue``), not a claim file, says which SLURM jobs are alive.
"""

from typing import Literal

LauncherName = Literal["local", "slurm"]
LAUNCHERS: tuple[LauncherName, ...] = ("local", "slurm")
