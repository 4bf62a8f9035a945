"""N identical workers on one shared resource (an Optuna study), started by each launcher."""

from __future__ import annotations

import sys
from pathlib import Path

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from experiments.launchers.slurm_launcher import SlurmLauncher
from experiments.launchers.slurm_options import SlurmOptions
from experiments.launchers.worker_group import LocalWorkers, WorkerLauncher
from tests.slurm_cluster import slurm_cluster  # noqa: F401  (fixture)

WORKER = Path(__file__).with_name("study_worker.py")


def _launcher(kind: str, folder: Path, request: pytest.FixtureRequest) -> WorkerLauncher:
    if kind == "local":
        return LocalWorkers(folder)
    request.getfixturevalue("slurm_cluster")
    return SlurmLauncher(SlurmOptions(time_min=5, mem_gb=1), folder)


@pytest.mark.parametrize("kind", ["local", pytest.param("slurm", marks=pytest.mark.slurm)])
def test_two_workers_run_one_shared_study_at_the_same_time(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    journal = tmp_path / "study.journal"
    storage = JournalStorage(JournalFileBackend(str(journal)))
    optuna.create_study(study_name="shared", storage=storage)
    launcher = _launcher(kind, tmp_path / "workers", request)

    group = launcher.start_workers([sys.executable, str(WORKER), str(journal)], 2, "study")
    outcomes = group.wait(timeout_s=240)

    assert [o.ok for o in outcomes] == [True, True], [o.log.read_text() for o in outcomes if o.log.is_file()]
    assert len(set(group.worker_ids)) == 2
    trials = optuna.load_study(study_name="shared", storage=storage).get_trials()
    assert [t.state for t in trials] == [optuna.trial.TrialState.COMPLETE] * 6
    by_worker = {w: [t for t in trials if t.user_attrs["worker"] == w] for w in ("0", "1")}
    assert [len(by_worker["0"]), len(by_worker["1"])] == [3, 3]
    # Concurrency from the workers' own clocks: some trial of worker 0 overlaps some trial of worker 1.
    assert any(
        a.user_attrs["start"] < b.user_attrs["end"] and b.user_attrs["start"] < a.user_attrs["end"]
        for a in by_worker["0"]
        for b in by_worker["1"]
    )


def test_a_worker_count_below_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="count=0: expected at least one worker"):
        LocalWorkers(tmp_path).start_workers([sys.executable, "-c", "pass"], 0, "w")
