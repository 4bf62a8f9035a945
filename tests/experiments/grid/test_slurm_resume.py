"""A SLURM cell warned of its end (SIGUSR1, as ``sbatch --signal`` sends before a time limit) checkpoints at a
step boundary, requeues itself and resumes from ``last.ckpt``: its numbers equal an uninterrupted run's.

The reference is a twin cell of the same array (same config, same environment): a fit elsewhere could
run with another number of threads, which reorders float sums and moves the last digits.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from experiments.cli import CONFIG_DIR, main
from experiments.grid.cell_submissions import load_submissions
from experiments.launchers.slurm_queue import SlurmQueue
from tests.experiments.short_fit import short_fit
from tests.slurm_cluster import slurm_cluster  # noqa: F401  (fixture)

pytestmark = [pytest.mark.slurm, pytest.mark.usefixtures("slurm_cluster")]
NOT_REPRODUCIBLE = ("wall_time_s", "peak_memory_mb")


def _numbers(run_dir: Path) -> dict:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {k: v for k, v in metrics.items() if k not in NOT_REPRODUCIBLE}


def test_a_signalled_cell_requeues_itself_and_resumes_to_identical_numbers(tiny_model_dir, data_dir, tmp_path):
    spec = tmp_path / "resume.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "name": "resume",
                "base": [str(CONFIG_DIR / "data" / "stsb.yaml")],
                "axes": [
                    {
                        "name": "loss",
                        "values": [
                            {"label": label, "config": str(CONFIG_DIR / "loss" / "cosent.yaml")}
                            for label in ("signalled", "twin")
                        ],
                    }
                ],
                "seeds": [1],
                "evaluation_tasks": [],
                "slurm": {"time_min": 10, "cpus_per_task": 1, "mem_gb": 2},
            }
        )
    )
    fit = [*short_fit(40, val_every=4), "--model.encoder.init_args.model_name_or_path", str(tiny_model_dir)]
    fit += ["--data.source.init_args.data_dir", str(data_dir)]
    fit += ["--evaluation.tasks", "[]", "--evaluation.export_model", "false", "--wandb.mode", "disabled"]
    runs = tmp_path / "runs"
    assert main(["grid", "run", str(spec), "--runs-dir", str(runs), "--launcher", "slurm", *fit]) == 0
    cell, twin = runs / "resume" / "signalled__seed1", runs / "resume" / "twin__seed1"
    (job,) = [s.job_id for s in load_submissions(runs / "resume" / "signalled__seed1.slurm.json")]
    (twin_job,) = [s.job_id for s in load_submissions(runs / "resume" / "twin__seed1.slurm.json")]
    deadline = time.monotonic() + 240
    while not (cell / "checkpoints" / "last.ckpt").is_file():
        assert time.monotonic() < deadline, "no checkpoint within 240 s"
        time.sleep(0.05)
    subprocess.run(["scancel", "--signal=USR1", job], check=True)
    ended = SlurmQueue().wait([job, twin_job], timeout_s=300)
    assert [(ended[j].state, ended[j].restarts) for j in (job, twin_job)] == [("COMPLETED", 1), ("COMPLETED", 0)]
    assert not list(cell.parent.glob("signalled__seed1.interrupted-*"))  # resumed in place, not restarted
    assert _numbers(cell) == _numbers(twin)
