"""A fit stopped (kill -9, SIGTERM, SIGUSR1; mid-epoch, before or during a validation, at the last step) and resumed
gives exactly an uninterrupted run's numbers."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from experiments.callbacks.last_checkpoint import LAST_CHECKPOINT
from experiments.cli import CONFIG_DIR, main
from tests.experiments.short_fit import short_fit, write_sts_subset

STEPS = 40  # of 180 batches in an STSb epoch: every stop below is in the middle of the epoch
# Differ between any two runs, interrupted or not (timing, resident memory).
NOT_REPRODUCIBLE = ("wall_time_s", "peak_memory_mb")


def _args(run_dir: Path, tiny_model_dir: Path, sts_task: Path) -> list[str]:
    return [
        "fit",
        *("--config", str(CONFIG_DIR / "quickstart.yaml"), "--run_dir", str(run_dir)),
        *("--model.encoder.init_args.model_name_or_path", str(tiny_model_dir), "--autocast", "off"),
        *("--evaluation.tasks", f"[{sts_task}]", "--wandb.mode", "disabled"),
        *short_fit(STEPS, val_every=5),
    ]


def _metrics(run_dir: Path) -> dict:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {k: v for k, v in metrics.items() if k not in NOT_REPRODUCIBLE}


def _history(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "metrics.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _stop_after_first_checkpoint(args: list[str], run_dir: Path, signum: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "experiments.cli", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 300
    while not (run_dir / LAST_CHECKPOINT).is_file():
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "no checkpoint within 300 s"
        time.sleep(0.005)
    os.kill(process.pid, signum)
    process.wait(timeout=300)
    return process


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, tiny_model_dir: Path, data_dir: Path) -> tuple[Path, Path]:
    """The reference run, and its 30-pair local STS task (so MTEB before/after numbers are compared too)."""
    root = tmp_path_factory.mktemp("uninterrupted")
    task = write_sts_subset(data_dir, root / "tiny_sts.csv", pairs=30)
    assert main(_args(root / "run", tiny_model_dir, task)) == 0
    return root / "run", task


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGUSR1], ids=lambda s: s.name)
def test_stopped_run_resumes_to_identical_numbers(signum, uninterrupted, tiny_model_dir: Path, tmp_path: Path):
    reference, task = uninterrupted
    run_dir = tmp_path / "run"
    process = _stop_after_first_checkpoint(_args(run_dir, tiny_model_dir, task), run_dir, signum)
    assert process.returncode != 0
    assert not (run_dir / "metrics.json").exists(), "the run finished before it could be stopped"
    stopped_at = _history(run_dir)[-1]["step"]
    assert int(stopped_at) < STEPS - 1

    assert main(["fit", "--resume", str(run_dir)]) == 0
    assert _metrics(run_dir) == _metrics(reference)
    assert _history(run_dir) == _history(reference)


@pytest.mark.parametrize(
    ("where", "at_step"), [("train_step", 10), ("validation", 10), ("validation", STEPS)], ids=lambda v: str(v)
)
def test_signal_before_or_during_a_validation_waits_for_it(
    where, at_step, uninterrupted, tiny_model_dir: Path, tmp_path: Path
):
    # A validation cut short would be skipped by the resumed run (at the last step: never run again).
    reference, task = uninterrupted
    run_dir = tmp_path / "run"
    stop = {"where": where, "at_step": at_step, "marker": str(tmp_path / "signalled")}
    callback = json.dumps({"class_path": "tests.experiments.stop_signal.StopSignal", "init_args": stop})
    args = [*_args(run_dir, tiny_model_dir, task), f"--trainer.callbacks+={callback}"]
    process = subprocess.run([sys.executable, "-m", "experiments.cli", *args], capture_output=True, text=True)
    assert process.returncode == 143, process.stderr[-2000:]
    assert (tmp_path / "signalled").is_file() and not (run_dir / "metrics.json").exists()
    validated = [row for row in _history(run_dir) if row["val/sts_spearman"]]
    assert validated[-1]["step"] == str(at_step - 1)  # the validation after the signal ran to its end

    assert main(["fit", "--resume", str(run_dir)]) == 0
    assert _metrics(run_dir) == _metrics(reference)
    assert _history(run_dir) == _history(reference)


def test_resume_refuses_what_it_cannot_continue(tmp_path: Path, capsys) -> None:
    assert main(["fit", "--resume", str(tmp_path)]) == 2
    assert "no config.yaml there" in capsys.readouterr().err
    (tmp_path / "config.yaml").write_text("{}")
    assert main(["fit", "--resume", str(tmp_path)]) == 2
    assert f"no {LAST_CHECKPOINT}" in capsys.readouterr().err
    (tmp_path / "metrics.json").write_text("{}")
    assert main(["fit", "--resume", str(tmp_path)]) == 2
    assert "already finished" in capsys.readouterr().err
