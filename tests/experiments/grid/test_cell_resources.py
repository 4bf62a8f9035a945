from __future__ import annotations

from types import SimpleNamespace

import pytest

from experiments.grid.cell_resources import cell_resources, devices_per_node
from experiments.launchers.slurm_launcher import TaskResources
from experiments.launchers.slurm_options import SlurmOptions


def trainer(devices: object = 1, num_nodes: int = 1, accelerator: str = "auto") -> SimpleNamespace:
    return SimpleNamespace(devices=devices, num_nodes=num_nodes, accelerator=accelerator)


@pytest.mark.parametrize(
    ("devices", "gpus", "count"),
    [(1, 0, 1), (4, 4, 4), ("2", 0, 2), ([0, 1], 2, 2), ("0,1,2", 3, 3), ("auto", 0, 1), ("auto", 2, 2), (-1, 4, 4)],
)
def test_one_process_per_device(devices: object, gpus: int, count: int) -> None:
    assert devices_per_node(devices, gpus) == count


def test_a_multi_node_multi_gpu_cell_is_one_task_per_gpu_on_each_node() -> None:
    shape = cell_resources(trainer(devices=4, num_nodes=2), SlurmOptions(gpus_per_node=4), "c")
    assert shape == TaskResources(nodes=2, tasks_per_node=4)


@pytest.mark.parametrize(
    ("settings", "gpus", "message"),
    [
        (
            trainer(devices=1),
            2,
            "cell c: slurm.gpus_per_node=2 but trainer.devices=1 runs 1 process(es) per node, "
            "so 1 GPU(s) would sit idle; set trainer.devices=2 or slurm.gpus_per_node=1",
        ),
        (
            trainer(devices=4),
            2,
            "cell c: slurm.gpus_per_node=2 but trainer.devices=4 runs 4 process(es) per node; "
            "set trainer.devices=2 or slurm.gpus_per_node=4",
        ),
        (trainer(accelerator="cpu"), 1, "cell c: slurm.gpus_per_node=1 but trainer.accelerator=cpu"),
        (trainer(accelerator="gpu"), 0, "cell c: trainer.accelerator=gpu but slurm.gpus_per_node is 0"),
        (trainer(devices=0), 0, "cell c: trainer.devices=0: expected a positive count"),
    ],
)
def test_gpus_the_cell_would_not_use_are_refused(settings: SimpleNamespace, gpus: int, message: str) -> None:
    with pytest.raises(ValueError) as err:
        cell_resources(settings, SlurmOptions(gpus_per_node=gpus), "c")
    assert str(err.value).startswith(message)
