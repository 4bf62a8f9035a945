"""``losslab grid run --launcher slurm`` through the real single-node cluster (marked ``slurm``).

Three tiny cells (the tiny model, two steps, no MTEB, W&B off) in one array that runs two at a time: both
first tasks are seen RUNNING together while the third waits; one is cancelled with ``scancel``, which
``grid status`` reports from the scheduler's state, and the next ``grid run`` resubmits only that cell;
another is requeued (as preemption does) and finishes by itself; the report is built from the finished
run directories.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from experiments.cli import CONFIG_DIR, main
from experiments.grid.cell_submissions import load_submissions
from experiments.launchers.slurm_queue import SlurmQueue
from tests.slurm_cluster import slurm_cluster  # noqa: F401  (fixture)

pytestmark = [pytest.mark.slurm, pytest.mark.usefixtures("slurm_cluster")]
CELLS = ("cosent__seed1", "angle__seed1", "cosine__seed1")


def _spec(path: Path) -> Path:
    loss = CONFIG_DIR / "loss"
    spec = {
        "name": "tiny_slurm",
        "base": [str(CONFIG_DIR / "data" / "stsb.yaml")],
        "axes": [
            {
                "name": "loss",
                "values": [
                    {"label": "cosent", "config": str(loss / "cosent.yaml")},
                    {"label": "angle", "config": str(loss / "angle.yaml")},
                    {
                        "label": "cosine",
                        "config": str(loss / "cosine_similarity.yaml"),
                        "overrides": {"data.conversion.normalize_scores": True},
                    },
                ],
            }
        ],
        "seeds": [1],
        "evaluation_tasks": [],
        "slurm": {"time_min": 10, "cpus_per_task": 1, "mem_gb": 2, "array_parallelism": 2},
    }
    path.write_text(yaml.safe_dump(spec))
    return path


def _wait_until(condition: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not reached within {timeout_s:.0f} s"
        time.sleep(0.3)


def _status_rows(out: str) -> dict[str, list[str]]:
    """``grid status`` rows by cell id: status, job id, job state (when alive or failed), labels."""
    rows = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) > 2 and words[1] in CELLS:
            rows[words[1]] = words[2:]
    return rows


def test_grid_on_slurm_two_at_once_a_cancelled_cell_resubmitted_a_requeued_one_rerun_and_the_report(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    runs = tmp_path / "runs"
    grid = runs / "tiny_slurm"
    common = [str(_spec(tmp_path / "tiny_slurm.yaml")), "--runs-dir", str(runs)]
    common += ["--model.encoder.init_args.model_name_or_path", str(tiny_model_dir)]
    common += ["--data.source.init_args.data_dir", str(data_dir), "--evaluation.tasks", "[]"]
    common += ["--evaluation.export_model", "false", "--wandb.mode", "disabled"]
    run = ["grid", "run", *common, "--launcher", "slurm", "--max-steps", "2"]

    assert main(run) == 0
    jobs = [load_submissions(grid / f"{cell}.slurm.json")[-1].job_id for cell in CELLS]
    assert len({job.split("_")[0] for job in jobs}) == 1, "one array for the three cells"
    queue = SlurmQueue()
    seen: dict = {}

    def first_two_running() -> bool:
        seen.update(queue.jobs(jobs))
        return all(seen[job].state == "RUNNING" for job in jobs[:2])

    _wait_until(first_two_running, 120)
    # At that moment array_parallelism=2 holds the third task back.
    assert (seen[jobs[2]].state, seen[jobs[2]].reason) == ("PENDING", "JobArrayTaskLimit")
    subprocess.run(["scancel", jobs[1]], check=True)
    # Requeue the first cell once its fit has started (what preemption does): the same array task runs
    # run_cell again. Where the requeue's SIGTERM lands decides what that second run finds: a fit stopped
    # before its first step leaves no last.ckpt (its files are set aside and it starts afresh), one stopped
    # later saved last.ckpt (resumed), one that had already finished left metrics.json (kept).
    _wait_until(lambda: (grid / CELLS[0] / "config.yaml").is_file(), 120)
    subprocess.run(["scontrol", "requeue", jobs[0]], check=True)
    ended = queue.wait(jobs, timeout_s=300)
    assert [ended[job].state for job in jobs] == ["COMPLETED", "CANCELLED", "COMPLETED"]
    assert [ended[job].restarts for job in jobs] == [1, 0, 0]
    # Each of the three messages comes from run_cell in the requeued run only.
    first_log = Path(load_submissions(grid / f"{CELLS[0]}.slurm.json")[-1].stdout).read_text(encoding="utf-8")
    set_aside = list(grid.glob(f"{CELLS[0]}.interrupted-*"))
    if "the earlier attempt's files are in" in first_log:
        assert len(set_aside) == 1 and (set_aside[0] / "config.yaml").is_file()
    else:
        assert not set_aside
        assert "--resume" in first_log or "is done (metrics.json exists)" in first_log, first_log

    capsys.readouterr()
    assert main(["grid", "status", *common]) == 0
    out = capsys.readouterr().out
    rows = _status_rows(out)
    assert rows["cosent__seed1"][:2] == ["done", jobs[0]]
    assert rows["angle__seed1"][:3] == ["failed", jobs[1], "CANCELLED"]
    assert rows["cosine__seed1"][:2] == ["done", jobs[2]]
    assert "failed 1/3 (CANCELLED), retried by the next grid run; log: " in out
    assert not (grid / "angle__seed1" / "metrics.json").exists()
    resumable = (grid / "angle__seed1" / "checkpoints" / "last.ckpt").is_file()

    assert main([*run, "--wait"]) == 0
    out = capsys.readouterr().out
    assert "angle__seed1: submitted as job" in out
    assert "cosent__seed1: submitted" not in out and "cosine__seed1: submitted" not in out
    attempts = load_submissions(grid / "angle__seed1.slurm.json")
    assert [a.end_state for a in attempts] == ["CANCELLED", None]
    assert attempts[1].job_id not in jobs
    if resumable:
        assert "resumes from last.ckpt" in out
    else:
        assert "fresh" in out and len(list(grid.glob("angle__seed1.interrupted-*"))) == 1
    assert all((grid / cell / "metrics.json").is_file() for cell in CELLS)
    assert main(["grid", "status", *common]) == 0
    assert [row[0] for row in _status_rows(capsys.readouterr().out).values()] == ["done"] * 3

    report = tmp_path / "report"
    assert main(["report", common[0], "--runs-dir", str(runs), "--output", str(report), "--wandb", "disabled"]) == 0
    board = (report / "leaderboard.md").read_text()
    assert all(f"| {label} | 1 |" in board for label in ("cosent", "angle", "cosine"))


def test_a_two_device_cell_runs_as_two_srun_tasks_under_lightnings_slurm_environment(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    runs = tmp_path / "runs"
    args = ["grid", "run", str(_spec(tmp_path / "tiny_slurm.yaml")), "--runs-dir", str(runs), "--cell", "0"]
    args += ["--launcher", "slurm", "--max-steps", "2", "--wait"]
    args += ["--model.encoder.init_args.model_name_or_path", str(tiny_model_dir), "--data.source.init_args.data_dir"]
    args += [str(data_dir), "--evaluation.tasks", "[]", "--evaluation.export_model", "false"]
    args += ["--wandb.mode", "disabled", "--trainer.strategy", "ddp", "--trainer.accelerator", "cpu"]
    assert main([*args, "--trainer.devices", "2"]) == 0
    assert "(fresh, 1 node(s) x 2 task(s);" in capsys.readouterr().out
    run_dir = runs / "tiny_slurm" / "cosent__seed1"
    assert (run_dir / "metrics.json").is_file()
    (attempt,) = load_submissions(runs / "tiny_slurm" / "cosent__seed1.slurm.json")
    # Each srun task is one DDP rank: SLURM numbers them, Lightning does not start processes itself.
    rank_one = Path(attempt.stderr.replace("_0_log.err", "_1_log.err")).read_text()
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in rank_one and "Traceback" not in rank_one


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--partition", "nope"], "sbatch --test-only rejected the request: invalid partition specified: nope"),
        (["--sbatch", "bogus=1"], "sbatch --test-only rejected the request: unrecognized option '--bogus=1'"),
        (["--partition", "short", "--time-min", "6"], "slurm.time_min=6 exceeds the MaxTime of partition short"),
    ],
    ids=["partition", "flag", "time"],
)
def test_a_request_the_scheduler_refuses_is_one_line_and_nothing_is_written(
    flags: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    runs = tmp_path / "runs"
    argv = ["grid", "run", str(_spec(tmp_path / "tiny_slurm.yaml")), "--runs-dir", str(runs), "--launcher", "slurm"]
    assert main([*argv, *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"losslab grid: error: {message}") and "\n" not in err
    assert not (runs / "tiny_slurm").exists()
