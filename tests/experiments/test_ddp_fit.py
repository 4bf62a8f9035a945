"""``losslab fit`` under Lightning's DDP strategy: two CPU processes (gloo), one complete run directory.

The command runs in a subprocess because Lightning's DDP launcher re-executes it once per further device.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from experiments.cli import CONFIG_DIR
from tests.conftest import PROJECT_ROOT
from tests.experiments.short_fit import short_fit

STEPS = 3


def test_gradient_cached_loss_trains_under_ddp(tiny_model_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    args = [
        "fit",
        "--config",
        str(CONFIG_DIR / "loss" / "cached_multiple_negatives_ranking.yaml"),
        "--config",
        str(CONFIG_DIR / "data" / "snli_triplets.yaml"),
        "--model.encoder.init_args.model_name_or_path",
        str(tiny_model_dir),
        "--model.loss.init_args.gather_across_devices",
        "true",
        "--data.source.init_args.data_dir",
        str(data_dir),
        "--run_dir",
        str(run_dir),
        *short_fit(STEPS),
        "--evaluation.tasks",
        "[STSBenchmark]",
        "--wandb.mode",
        "offline",
        "--trainer.strategy",
        "ddp",
        "--trainer.devices",
        "2",
        "--trainer.accelerator",
        "cpu",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "LOSSLAB_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "experiments.cli", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # Rank 1 runs the same command: it must neither evaluate nor write, so it cannot fail on rank 0's files.
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "GLOBAL_RANK: 1" in done.stderr

    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["global_step"] == STEPS
    assert set(metrics["test"]) == set(metrics["before"]) == {"test/mteb/STSBenchmark"}
    with open(run_dir / "metrics.csv") as handle:
        assert [row["train/loss"] for row in csv.DictReader(handle) if row.get("train/loss")]
    assert (run_dir / metrics["best_checkpoint"]).is_file()
    assert (run_dir / "model" / "modules.json").is_file()
    assert len(list((run_dir / "wandb").glob("offline-run-*"))) == 1
