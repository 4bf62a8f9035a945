"""The SLURM shape of a cell from its own trainer settings: one task per device, ``num_nodes`` nodes."""

from __future__ import annotations

from typing import Any

from experiments.launchers.slurm_launcher import TaskResources
from experiments.launchers.slurm_options import SlurmOptions

_GPU_ACCELERATORS = {"gpu", "cuda"}


def devices_per_node(devices: Any, gpus_per_node: int) -> int:
    """How many processes Lightning runs per node for ``trainer.devices``.

    ``auto`` and ``-1`` mean every device the task can see: the GPUs it was given, or one CPU process.

    Raises:
        ValueError: If ``devices`` is not a count, a list of device indices or ``auto``/``-1``.
    """
    if isinstance(devices, str):
        text = devices.strip()
        if text in {"auto", "-1"}:
            return max(1, gpus_per_node)
        if "," in text:
            return len([part for part in text.split(",") if part.strip()])
        if text.isdigit():
            devices = int(text)
    if isinstance(devices, list | tuple):
        return len(devices)
    if isinstance(devices, int) and not isinstance(devices, bool):
        if devices == -1:
            return max(1, gpus_per_node)
        if devices >= 1:
            return devices
    raise ValueError(f"trainer.devices={devices!r}: expected a positive count, a list of devices, 'auto' or -1")


def cell_resources(trainer: Any, options: SlurmOptions, cell_id: str) -> TaskResources:
    """Nodes and tasks per node for a cell, checked against the GPUs asked for per node.

    Args:
        trainer: The cell's resolved ``trainer`` config (``devices``, ``num_nodes``, ``accelerator``).
        options: The grid's SLURM options.
        cell_id: For the error message.

    Raises:
        ValueError: GPUs that the cell's processes would not use, or fewer GPUs than its devices.
    """
    gpus = options.gpus_per_node
    try:
        per_node = devices_per_node(trainer.devices, gpus)
    except ValueError as err:
        raise ValueError(f"cell {cell_id}: {err}") from None
    nodes = int(trainer.num_nodes)
    accelerator = trainer.accelerator if isinstance(trainer.accelerator, str) else None
    if gpus and accelerator == "cpu":
        raise ValueError(
            f"cell {cell_id}: slurm.gpus_per_node={gpus} but trainer.accelerator=cpu: its GPUs would sit idle"
        )
    if gpus and gpus != per_node:
        more = gpus > per_node
        raise ValueError(
            f"cell {cell_id}: slurm.gpus_per_node={gpus} but trainer.devices={trainer.devices!r} runs {per_node} "
            f"process(es) per node"
            + (f", so {gpus - per_node} GPU(s) would sit idle" if more else "")
            + f"; set trainer.devices={gpus} or slurm.gpus_per_node={per_node}"
        )
    if not gpus and accelerator in _GPU_ACCELERATORS:
        raise ValueError(
            f"cell {cell_id}: trainer.accelerator={accelerator} but slurm.gpus_per_node is 0: the job gets no GPU"
        )
    return TaskResources(nodes=nodes, tasks_per_node=per_node)
