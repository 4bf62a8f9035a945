import os
import socket
import subprocess
import sys

import optuna
import pytest
from optuna.trial import TrialState

from experiments.tune.study_layout import StudyLayout
from experiments.tune.study_preflight import LossPlan
from experiments.tune.study_spec import StudySpec
from experiments.tune.study_storage import loss_studies
from experiments.tune.study_worker import StudyWorker
from experiments.tune.trial_runner import TrialResult
from tests.experiments.tune.study_specs import write_study

PLANS = [
    LossPlan("batch_hard", "BatchHardTripletLoss", "banking77", "val/knn_accuracy", True),
    LossPlan("soft_margin", "BatchHardSoftMarginTripletLoss", "banking77", "val/knn_accuracy", True),
]


def _worker(tmp_path, outcomes, **changes) -> tuple[StudyWorker, list]:
    """A worker over an in-memory storage whose trials end as ``outcomes(label, trial)`` says."""
    spec = StudySpec.from_yaml(write_study(tmp_path, **changes))
    studies = loss_studies(spec, optuna.storages.InMemoryStorage(), PLANS)
    ran = []

    def runner(args, run_dir, trial, metric):
        label = run_dir.parent.name
        ran.append((label, trial.number, dict(trial.params)))
        assert "--run_dir" in args and str(run_dir) in args and metric == "val/knn_accuracy"
        return outcomes(label, trial)

    out = open(os.devnull, "w")  # noqa: SIM115 - closed with the test process
    return StudyWorker(spec, StudyLayout(tmp_path / "runs"), PLANS, studies, runner=runner, out=out), ran


def test_every_loss_gets_exactly_its_budget_and_pruned_trials_count(tmp_path):
    def outcomes(label, trial):
        if label == "batch_hard" and trial.number % 2:
            return TrialResult(TrialState.PRUNED)
        return TrialResult(TrialState.COMPLETE, trial.params["model.optimizer.init_args.lr"] * 1e4)

    worker, ran = _worker(tmp_path, outcomes, trials_per_loss=4)
    worker.search()
    assert worker.search_finished()
    for label in ("batch_hard", "soft_margin"):
        counts = worker.counts(label)
        assert counts["COMPLETE"] + counts["PRUNED"] == 4 and counts["FAIL"] == 0
    assert worker.counts("batch_hard")["PRUNED"] == 2
    # Losses advance together: trials alternate between them.
    assert [label for label, _, _ in ran[:4]] == ["batch_hard", "soft_margin", "batch_hard", "soft_margin"]
    best = worker.best_params()
    study = worker.studies["soft_margin"]
    assert best["soft_margin"] == study.best_trial.params and set(best) == {"batch_hard", "soft_margin"}


def test_failed_trials_are_capped_and_a_loss_without_a_complete_trial_is_named(tmp_path):
    def outcomes(label, trial):
        if label == "soft_margin":
            return TrialResult(TrialState.FAIL, error="boom")
        return TrialResult(TrialState.COMPLETE, 0.5)

    worker, _ = _worker(tmp_path, outcomes, trials_per_loss=2, max_failed_trials=2)
    worker.search()
    assert worker.counts("soft_margin") == {"FAIL": 2}
    assert worker.studies["soft_margin"].trials[0].user_attrs["error"] == "boom"
    with pytest.raises(ValueError, match=r"no complete trial for \['soft_margin'\]"):
        worker.best_params()


def test_a_dead_workers_running_trial_is_failed_and_its_budget_asked_again(tmp_path):
    worker, ran = _worker(tmp_path, lambda label, trial: TrialResult(TrialState.COMPLETE, 0.5), trials_per_loss=1)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = worker.studies["batch_hard"].ask()
    orphan.set_user_attr("host", socket.gethostname())
    orphan.set_user_attr("pid", int(dead.stdout))  # the process has exited
    assert worker.fail_orphans() == 1 and worker.counts("batch_hard") == {"FAIL": 1}
    worker.search()
    assert worker.counts("batch_hard") == {"FAIL": 1, "COMPLETE": 1}
    assert [number for label, number, _ in ran if label == "batch_hard"] == [1]


def test_a_live_workers_trial_is_left_running(tmp_path):
    worker, _ = _worker(tmp_path, lambda label, trial: TrialResult(TrialState.COMPLETE, 0.5), trials_per_loss=1)
    running = worker.studies["batch_hard"].ask()
    running.set_user_attr("host", socket.gethostname())
    running.set_user_attr("pid", os.getpid())
    assert worker.fail_orphans() == 0
    worker.search()  # batch_hard's budget is taken by the running trial: only soft_margin runs
    assert worker.counts("batch_hard") == {"RUNNING": 1} and not worker.search_finished()


def test_a_dead_workers_finished_trial_is_recorded_complete_not_rerun(tmp_path):
    worker, ran = _worker(tmp_path, lambda label, trial: TrialResult(TrialState.COMPLETE, 0.5), trials_per_loss=1)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = worker.studies["batch_hard"].ask()
    run_dir = tmp_path / "finished"
    run_dir.mkdir()
    (run_dir / "metrics.json").write_text('{"best_val": 0.75}')
    for key, value in {"host": socket.gethostname(), "pid": int(dead.stdout), "run_dir": str(run_dir)}.items():
        orphan.set_user_attr(key, value)
    assert worker.fail_orphans() == 0
    (trial,) = worker.studies["batch_hard"].trials
    assert trial.state is TrialState.COMPLETE and trial.value == 0.75
    worker.search()
    assert [label for label, _, _ in ran] == ["soft_margin"]


@pytest.mark.parametrize("sampler", ["tpe", "random"])
def test_workers_and_resumed_workers_never_repeat_a_draw(tmp_path, sampler):
    # Two workers on one storage asking in turn, then a third started later (a resume): every trial's
    # parameters differ, and a lone worker with the same seed draws exactly the same sequence.
    spec = StudySpec.from_yaml(write_study(tmp_path, trials_per_loss=6, sampler={"name": sampler, "seed": 7}))

    def worker(storage: optuna.storages.BaseStorage) -> StudyWorker:
        def runner(args, run_dir, trial, metric):
            return TrialResult(TrialState.COMPLETE, 0.5)

        studies = loss_studies(spec, storage, PLANS)
        return StudyWorker(
            spec, StudyLayout(tmp_path / "runs"), PLANS, studies, runner=runner, out=open(os.devnull, "w")
        )  # noqa: SIM115

    shared = optuna.storages.InMemoryStorage()
    first, second = worker(shared), worker(shared)
    for _ in range(2):
        for each in (first, second):
            label, trial = each._ask()
            each.studies[label].tell(trial, 0.5)
    worker(shared).search()  # the resumed worker fills the rest of the budget
    lone = worker(optuna.storages.InMemoryStorage())
    lone.search()
    for label in ("batch_hard", "soft_margin"):
        params = [t.params for t in first.studies[label].trials]
        assert len(params) == 6 and len({tuple(p.values()) for p in params}) == 6
        assert [t.params for t in lone.studies[label].trials] == params


def test_interrupted_trials_do_not_use_up_the_failure_allowance(tmp_path):
    worker, ran = _worker(tmp_path, lambda label, trial: TrialResult(TrialState.COMPLETE, 0.5), max_failed_trials=1)
    for _ in range(3):  # three machines' leases ended in the middle of a batch_hard trial
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        orphan = worker.studies["batch_hard"].ask()
        orphan.set_user_attr("host", socket.gethostname())
        orphan.set_user_attr("pid", int(dead.stdout))
        assert worker.fail_orphans() == 1
    worker.search()
    assert worker.counts("batch_hard") == {"FAIL": 3, "COMPLETE": 2} and worker.errors("batch_hard") == 0


def test_a_stop_request_ends_the_search_after_the_current_trial(tmp_path):
    def outcomes(label, trial):
        worker.layout.stop_file.parent.mkdir(parents=True, exist_ok=True)
        worker.layout.stop_file.write_text("losslab tune --stop\n")  # requested while the trial runs
        return TrialResult(TrialState.COMPLETE, 0.5)

    worker, ran = _worker(tmp_path, outcomes, trials_per_loss=2)
    worker.search()
    worker.wait_for_search()  # returns at once: the other trials are left for a later run
    assert [label for label, _, _ in ran] == ["batch_hard"] and not worker.search_finished()
    worker.layout.stop_file.unlink()
    worker.runner = lambda args, run_dir, trial, metric: TrialResult(TrialState.COMPLETE, 0.5)
    worker.search()
    assert worker.search_finished()
