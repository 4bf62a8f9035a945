"""``SlurmLauncher`` against the real single-node cluster (marked ``slurm``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from experiments.launchers.slurm_launcher import SlurmLauncher, TaskResources
from experiments.launchers.slurm_options import SlurmOptions
from experiments.launchers.slurm_preflight import SlurmRequestError
from tests.slurm_cluster import slurm_cluster  # noqa: F401  (fixture)

pytestmark = [pytest.mark.slurm, pytest.mark.usefixtures("slurm_cluster")]


def _queued() -> int:
    return len(subprocess.run(["squeue", "--noheader", "--array"], capture_output=True, text=True).stdout.splitlines())


@pytest.mark.parametrize(
    ("options", "resources", "message"),
    [
        (SlurmOptions(partition="nope"), TaskResources(), "invalid partition specified: nope"),
        (SlurmOptions(cpus_per_task=64), TaskResources(), "Requested node configuration is not available"),
        (SlurmOptions(mem_gb=100_000), TaskResources(), "Requested node configuration is not available"),
        (SlurmOptions(), TaskResources(nodes=2), "Requested node configuration is not available"),
        (SlurmOptions(sbatch={"bogus": "1"}), TaskResources(), "unrecognized option '--bogus=1'"),
        (SlurmOptions(partition="short", time_min=10), TaskResources(), "exceeds the MaxTime of partition short"),
    ],
    ids=["partition", "cpus", "memory", "nodes", "flag", "time"],
)
def test_impossible_requests_are_refused_before_anything_is_queued(
    options: SlurmOptions, resources: TaskResources, message: str, tmp_path: Path
) -> None:
    before = _queued()
    with pytest.raises(SlurmRequestError, match="rejected the request|exceeds") as err:
        SlurmLauncher(options, tmp_path).check("g", 3, resources)
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    assert _queued() == before


def test_a_possible_request_passes_the_check(tmp_path: Path) -> None:
    SlurmLauncher(SlurmOptions(partition="short", time_min=5, mem_gb=1), tmp_path).check("g", 2, TaskResources())
