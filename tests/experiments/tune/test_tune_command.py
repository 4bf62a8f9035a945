"""``losslab tune`` end to end on the tiny model: search, final stage, report; a killed search resumes."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from experiments.cli import main
from experiments.tune.study_layout import StudyLayout
from tests.experiments.tune.study_specs import write_study


@pytest.fixture
def tiny_args(tiny_model_dir: Path) -> list[str]:
    return [
        *("--max-steps", "2"),
        *("--model.encoder.init_args.model_name_or_path", str(tiny_model_dir)),
        *("--evaluation.export_model", "false", "--wandb.mode", "disabled"),
    ]


@pytest.fixture
def sts_task(tmp_path: Path, data_dir: Path) -> Path:
    with open(data_dir / "stsb" / "test.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:30]
    path = tmp_path / "tiny_sts.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["sentence1", "sentence2", "score"])
        writer.writeheader()
        writer.writerows({k: row[k] for k in ("sentence1", "sentence2", "score")} for row in rows)
    return path


def test_a_study_searches_reruns_the_best_and_reports(tmp_path, tiny_args, sts_task, capsys):
    spec = write_study(tmp_path, trials_per_loss=1, evaluation_tasks=[str(sts_task)], primary_metric="average")
    runs = tmp_path / "runs"
    assert main(["tune", str(spec), "--runs-dir", str(runs), *tiny_args]) == 0
    root = runs / "tiny_study"
    for loss in ("batch_hard", "soft_margin"):
        trial = json.loads((root / "trials" / loss / "trial-000" / "metrics.json").read_text())
        assert trial["test"] == {} and trial["best_checkpoint"] is None  # validation only, no checkpoints kept
        assert not (root / "trials" / loss / "trial-000" / "checkpoints").exists()
        final = json.loads((root / "final" / f"{loss}__seed1" / "metrics.json").read_text())
        assert list(final["test"]) == ["test/mteb/LocalSTS-tiny_sts"]
    # The first final run also scored the untouched encoder: the report's baseline row.
    assert json.loads((root / "final" / "batch_hard__seed1" / "metrics.json").read_text())["before"]
    with open(root / "trials.csv", encoding="utf-8") as handle:
        trials = list(csv.DictReader(handle))
    assert [(t["loss"], t["state"]) for t in trials] == [("batch_hard", "COMPLETE"), ("soft_margin", "COMPLETE")]

    capsys.readouterr()
    assert main(["tune", str(spec), "--runs-dir", str(runs), "--status", *tiny_args]) == 0
    status = capsys.readouterr().out
    assert "batch_hard" in status and "final stage: 2 of 2 runs done" in status

    report = tmp_path / "report"
    assert main(["report", str(spec), "--runs-dir", str(runs), "--output", str(report), "--wandb", "disabled"]) == 0
    with open(report / "leaderboard.csv", encoding="utf-8") as handle:
        board = list(csv.DictReader(handle))
    assert {row["loss"] for row in board} >= {"batch_hard", "soft_margin", "baseline"}
    assert (report / "trials.csv").is_file() and (report / "per_seed.csv").is_file()

    # Exported without weights (to continue elsewhere, or to commit beside the report): the same report.
    for name in ("model", "wandb", "checkpoints"):
        (root / "final" / "batch_hard__seed1" / name).mkdir(exist_ok=True)
        (root / "final" / "batch_hard__seed1" / name / "weights.bin").write_bytes(b"0" * 1024)
    exported = tmp_path / "exported"
    export = ["tune", str(spec), "--runs-dir", str(runs), "--export", str(exported), *tiny_args]
    assert main(export) == 0
    assert "exported 2 trials and 2 final runs" in capsys.readouterr().out
    copy = exported / "tiny_study"
    assert not [path for path in copy.rglob("*") if path.name in ("model", "wandb", "checkpoints")]
    assert (copy / "optuna.db").is_file() and (copy / "trials" / "soft_margin" / "trial-000" / "metrics.csv").is_file()
    rebuilt = tmp_path / "rebuilt"
    rebuild = ["report", str(spec), "--runs-dir", str(exported), "--output", str(rebuilt), "--wandb", "disabled"]
    assert main(rebuild) == 0
    assert _scores(rebuilt / "leaderboard.csv") == _scores(report / "leaderboard.csv")
    assert main(["tune", str(spec), "--runs-dir", str(exported), "--status", *tiny_args]) == 0
    assert "final stage: 2 of 2 runs done" in capsys.readouterr().out
    assert main(export) == 2  # the export exists: nothing is overwritten
    assert f"{copy} exists" in capsys.readouterr().err


def _scores(leaderboard: Path) -> list[dict[str, str]]:
    """The leaderboard's rows without the run paths (which differ between a study and its export)."""
    with open(leaderboard, encoding="utf-8") as handle:
        return [{k: v for k, v in row.items() if k != "run_dirs"} for row in csv.DictReader(handle)]


def test_a_killed_search_resumes_without_repeating_a_finished_trial(tmp_path, tiny_args):
    spec = write_study(tmp_path, trials_per_loss=2)
    runs = tmp_path / "runs"
    command = [sys.executable, "-m", "experiments.cli", "tune", str(spec), "--runs-dir", str(runs), "--search-only"]
    process = subprocess.Popen([*command, *tiny_args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    layout = StudyLayout(runs / "tiny_study")
    first = layout.trial_dir("batch_hard", 0) / "metrics.json"
    deadline = time.monotonic() + 300
    while not first.is_file():
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    finished_at = first.stat().st_mtime_ns
    process.send_signal(signal.SIGKILL)
    process.wait()

    assert main(["tune", str(spec), "--runs-dir", str(runs), "--search-only", *tiny_args]) == 0
    assert first.stat().st_mtime_ns == finished_at  # trial 0 was not run again
    storage = f"sqlite:///{layout.storage_file('sqlite')}"
    for loss in ("batch_hard", "soft_margin"):
        trials = optuna.load_study(study_name=f"tiny_study.{loss}", storage=storage).trials
        states = [t.state.name for t in trials]
        assert states.count("COMPLETE") == 2 and set(states) <= {"COMPLETE", "FAIL"}
    batch_hard = optuna.load_study(study_name="tiny_study.batch_hard", storage=storage).trials
    assert batch_hard[0].state.name == "COMPLETE" and batch_hard[0].number == 0
