"""``LastCheckpoint``: a checkpoint taken at a validation holds that validation's best-checkpoint verdict."""

from __future__ import annotations

from pathlib import Path

import torch

from experiments.callbacks.last_checkpoint import LAST_CHECKPOINT
from experiments.cli import CONFIG_DIR, main


def test_last_checkpoint_at_a_validation_holds_its_best_checkpoint_state(tiny_model_dir: Path, tmp_path: Path):
    # 5 steps, one validation after the last: last.ckpt is written there (and not again at the end).
    run_dir = tmp_path / "run"
    args = ["fit", "--config", str(CONFIG_DIR / "quickstart.yaml"), "--run_dir", str(run_dir)]
    args += ["--model.encoder.init_args.model_name_or_path", str(tiny_model_dir), "--autocast", "off"]
    args += ["--evaluation.tasks", "[]", "--wandb.mode", "disabled", "--evaluation.keep_checkpoints", "true"]
    args += ["--trainer.max_steps", "5", "--trainer.val_check_interval", "5", "--trainer.limit_val_batches", "2"]
    assert main(args) == 0
    state = torch.load(run_dir / LAST_CHECKPOINT, weights_only=False)["callbacks"]
    (best,) = [value for key, value in state.items() if key.startswith("PrimaryMetricCheckpoint")]
    assert best["best_model_path"].endswith("best-step=5.ckpt")
    assert best["best_model_score"] is not None
