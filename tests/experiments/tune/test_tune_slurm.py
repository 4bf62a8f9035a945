"""``losslab tune --launcher slurm``: two workers, submitted to the real test cluster, share one study."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from experiments.cli import main
from tests.experiments.tune.study_specs import write_study
from tests.slurm_cluster import slurm_cluster  # noqa: F401  (fixture)


@pytest.mark.slurm
@pytest.mark.usefixtures("slurm_cluster")
def test_two_slurm_workers_share_one_study_and_its_final_stage(tmp_path: Path, tiny_model_dir: Path, data_dir: Path):
    spec = write_study(tmp_path, trials_per_loss=2, slurm={"time_min": 10, "mem_gb": 3, "cpus_per_task": 1})
    runs = tmp_path / "runs"
    args = ["tune", str(spec), "--runs-dir", str(runs), "--launcher", "slurm", "--workers", "2", "--wait"]
    args += ["--max-steps", "2", "--model.encoder.init_args.model_name_or_path", str(tiny_model_dir)]
    args += ["--data.source.init_args.data_dir", str(data_dir)]
    args += ["--evaluation.export_model", "false", "--wandb.mode", "disabled"]
    assert main(args) == 0

    storage = f"sqlite:///{runs / 'tiny_study' / 'optuna.db'}"
    trials = [
        trial
        for loss in ("batch_hard", "soft_margin")
        for trial in optuna.load_study(study_name=f"tiny_study.{loss}", storage=storage).trials
    ]
    assert [t.state.name for t in trials] == ["COMPLETE"] * 4  # exactly the budget, nothing run twice
    jobs = {t.user_attrs["slurm_job"] for t in trials}
    assert len(jobs) == 2 and all("_" in job for job in jobs)  # both array tasks ran trials
    # The two workers' trials overlapped in time: they ran at once, on one storage.
    by_job = {job: [t for t in trials if t.user_attrs["slurm_job"] == job] for job in jobs}
    first, second = by_job.values()
    assert any(
        a.datetime_start < b.datetime_complete and b.datetime_start < a.datetime_complete for a in first for b in second
    )
    for loss in ("batch_hard", "soft_margin"):
        assert (runs / "tiny_study" / "final" / f"{loss}__seed1" / "metrics.json").is_file()
