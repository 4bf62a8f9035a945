"""The ``slurm_cluster`` fixture: the single-node SLURM cluster of ``scripts/slurm_cluster.sh``, for tests
marked ``slurm`` (import the fixture into the test module)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "slurm_cluster.sh"


def _cluster(action: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), action], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[Path]:
    """``SLURM_CONF`` of a running cluster; started here (and stopped afterwards) unless it already ran."""
    was_running = _cluster("status").returncode == 0
    started = _cluster("start")
    if started.returncode != 0:
        pytest.fail(f"scripts/slurm_cluster.sh start failed:\n{started.stderr}", pytrace=False)
    conf = started.stdout.strip().splitlines()[-1].removeprefix("export SLURM_CONF=")
    patch = pytest.MonkeyPatch()
    # Jobs inherit the submitting process's environment (sbatch --export=ALL), this variable included.
    patch.setenv("SLURM_CONF", conf)
    try:
        yield Path(conf)
    finally:
        patch.undo()
        if not was_running:
            _cluster("stop")
