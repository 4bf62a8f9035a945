import os
import socket
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from experiments.cli import main
from experiments.run_metadata import git_ignore_rule
from experiments.tune.study_export import export_study
from experiments.tune.study_layout import StudyLayout
from experiments.tune.study_preflight import LossPlan
from experiments.tune.study_spec import StudySpec
from experiments.tune.study_status import status_lines
from experiments.tune.study_storage import loss_studies, open_storage
from experiments.tune.study_worker import StudyWorker
from tests.experiments.tune.study_specs import write_study

PLANS = [LossPlan("batch_hard", "BatchHardTripletLoss", "banking77", "val/knn_accuracy", True)]


@pytest.fixture
def study(tmp_path):
    spec = StudySpec.from_yaml(write_study(tmp_path, trials_per_loss=4))
    layout = StudyLayout(tmp_path / "runs" / spec.name)
    studies = loss_studies(spec, open_storage(spec, layout), PLANS)
    return spec, layout, studies


def _trial(layout, studies, state, **attrs):
    """A trial of batch_hard ended in ``state`` (or left running), with a run directory holding weights."""
    trial = studies["batch_hard"].ask()
    for key, value in attrs.items():
        trial.set_user_attr(key, value)
    run_dir = layout.trial_dir("batch_hard", trial.number)
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "checkpoints" / "last.ckpt").write_bytes(b"0" * 1024)
    (run_dir / "metrics.csv").write_text("step,val/knn_accuracy\n1,0.5\n")
    if state is not TrialState.RUNNING:
        studies["batch_hard"].tell(trial, values=[0.5] if state is TrialState.COMPLETE else None, state=state)
    return run_dir


def _dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True).stdout)


def test_ended_trials_are_exported_without_weights_and_interrupted_ones_left_out(study, tmp_path):
    spec, layout, studies = study
    _trial(layout, studies, TrialState.COMPLETE)
    _trial(layout, studies, TrialState.PRUNED)
    _trial(layout, studies, TrialState.FAIL, error="exit 1: boom")
    interrupted = _trial(layout, studies, TrialState.RUNNING, host=socket.gethostname(), pid=_dead_pid())
    assert StudyWorker(spec, layout, PLANS, studies).fail_orphans() == 1
    header, row = status_lines(PLANS, studies, spec.trials_per_loss, layout.final, [])
    assert header.split()[1:6] == ["complete", "pruned", "failed", "interrupted", "running"]
    assert row.split()[:6] == ["batch_hard", "1", "1", "1", "1", "0"]

    summary = export_study(layout, studies, layout.storage_file("sqlite"), tmp_path / "export")
    copy = tmp_path / "export" / spec.name
    assert summary.target == copy and (summary.trials, summary.final_runs) == (3, 0)
    exported = sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file())
    trials = [f"trials/batch_hard/trial-00{n}/metrics.csv" for n in range(3)]
    assert exported == ["optuna.db", *trials]
    assert not (copy / interrupted.relative_to(layout.root)).exists()
    reloaded = optuna.load_study(study_name=f"{spec.name}.batch_hard", storage=f"sqlite:///{copy / 'optuna.db'}")
    assert [t.state for t in reloaded.trials] == [TrialState.COMPLETE, TrialState.PRUNED, *[TrialState.FAIL] * 2]


def test_a_running_trial_refuses_the_export_and_nothing_is_written(study, tmp_path):
    spec, layout, studies = study
    _trial(layout, studies, TrialState.RUNNING, host=socket.gethostname(), pid=os.getpid())
    with pytest.raises(ValueError, match=r"still running: trial 0 of batch_hard \(pid \d+ on .+\); stop the workers"):
        export_study(layout, studies, layout.storage_file("sqlite"), tmp_path / "export")
    assert not (tmp_path / "export").exists() or not any((tmp_path / "export").iterdir())


def test_exporting_a_study_that_never_ran_says_so_in_one_line(tmp_path, capsys):
    spec = write_study(tmp_path)
    assert main(["tune", str(spec), "--runs-dir", str(tmp_path / "runs"), "--export", str(tmp_path / "out")]) == 2
    expected = f"losslab tune: error: --export: no sqlite storage in {tmp_path / 'runs' / 'tiny_study'}"
    assert capsys.readouterr().err.strip() == expected
    assert not (tmp_path / "runs").exists() and not (tmp_path / "out").exists()


def test_stop_asks_the_workers_to_stop_and_a_new_start_clears_it(tmp_path, capsys, monkeypatch):
    spec = write_study(tmp_path)
    runs = tmp_path / "runs"
    assert main(["tune", str(spec), "--runs-dir", str(runs), "--stop"]) == 0
    layout = StudyLayout(runs / "tiny_study")
    assert layout.stop_requested() and "workers exit after their current run" in capsys.readouterr().out

    started = []
    monkeypatch.setattr(StudyWorker, "search", lambda self: started.append(self.layout.stop_requested()))
    monkeypatch.setattr(StudyWorker, "wait_for_search", lambda self: layout.stop_file.write_text("again\n"))
    assert main(["tune", str(spec), "--runs-dir", str(runs)]) == 0
    assert started == [False]  # the earlier request was cleared before the search started
    assert "stopped on request" in capsys.readouterr().out


def _git_repo(folder, ignore):
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    (folder / ".gitignore").write_text(ignore)
    return folder


def test_an_export_git_will_not_commit_is_written_and_warned_about(study, tmp_path, capsys):
    _, layout, studies = study
    _trial(layout, studies, TrialState.COMPLETE)
    dest = _git_repo(tmp_path / "repo", "runs/\n") / "reports" / "runs"
    argv = ["tune", str(tmp_path / "study.yaml"), "--runs-dir", str(tmp_path / "runs"), "--export", str(dest)]
    assert main(argv) == 0
    out = capsys.readouterr()
    assert (dest / "tiny_study" / "optuna.db").is_file()
    assert out.err.strip() == (
        f"losslab tune: warning: git ignores {dest / 'tiny_study'} (.gitignore:1: runs/): it will not be committed"
    )


def test_this_repository_commits_the_exports_its_readme_tells_you_to_commit():
    root = Path(__file__).resolve().parents[3]
    if subprocess.run(["git", "rev-parse"], cwd=root, capture_output=True).returncode != 0:
        pytest.skip(f"{root} is not a git work tree")
    assert git_ignore_rule(root / "runs" / "study") is not None  # the runs directory itself stays out of git
    assert git_ignore_rule(root / "reports" / "study" / "runs" / "study" / "optuna.db") is None
