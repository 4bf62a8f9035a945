"""``Trainer.fit`` in plain Python does what ``losslab fit`` does: same checks, same run directory numbers."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch

from core.errors import SetupError
from datamodules import BatchingOptions, EmbeddingDataModule
from datamodules.sources import NamedSource
from experiments.callbacks import PrimaryMetricCheckpoint, RunFinalizer
from experiments.cli import CONFIG_DIR, main
from lightning_modules.embedding_module import EmbeddingLitModule
from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.losses import BatchHardTripletLoss, CoSENTLoss
from tests.experiments.short_fit import short_fit, write_sts_subset

STEPS = 4


@pytest.fixture
def sts_task(tmp_path: Path, data_dir: Path) -> Path:
    """A small local STS task (the first 40 STSb test pairs), so both runs also compare MTEB scores."""
    return write_sts_subset(data_dir, tmp_path / "tiny_sts.csv", pairs=40)


def _numbers(run_dir: Path) -> dict:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    keys = ("primary_metric", "best_val", "best_checkpoint", "val", "test", "global_step")
    return {key: metrics[key] for key in keys}


def test_plain_python_fit_writes_the_same_metrics_as_the_cli(tiny_model_dir: Path, tmp_path: Path, sts_task: Path):
    cli_dir, python_dir = tmp_path / "cli", tmp_path / "python"
    args = ["fit", "--config", str(CONFIG_DIR / "quickstart.yaml"), "--run_dir", str(cli_dir)]
    args += ["--model.encoder.init_args.model_name_or_path", str(tiny_model_dir), "--autocast", "off"]
    args += ["--evaluation.tasks", f"[{sts_task}]", "--evaluation.before_fit", "false", "--wandb.mode", "disabled"]
    args += short_fit(STEPS, val_every=2)
    assert main(args) == 0

    # The same run written as a notebook would (the README's "In Python" section).
    pl.seed_everything(42)
    encoder = HFEncoder(str(tiny_model_dir))
    module = EmbeddingLitModule(
        encoder,
        CoSENTLoss(scale=20.0),
        optimizer=partial(torch.optim.AdamW, lr=2e-5, weight_decay=0.01),
    )
    data = EmbeddingDataModule(
        NamedSource("stsb"), BatchingOptions(batch_size=32, eval_batch_size=128), tokenizer=str(tiny_model_dir)
    )
    trainer = pl.Trainer(
        default_root_dir=str(python_dir),
        max_steps=STEPS,
        val_check_interval=2,
        limit_val_batches=2,
        log_every_n_steps=1,
        num_sanity_val_steps=0,
        use_distributed_sampler=False,
        enable_progress_bar=False,
        logger=False,
        callbacks=[
            PrimaryMetricCheckpoint(filename="best-{step}", save_top_k=1),
            RunFinalizer(tasks=[str(sts_task)], before_fit=False),
        ],
    )
    trainer.fit(module, data)
    assert _numbers(python_dir) == _numbers(cli_dir)
    assert (python_dir / "model" / "modules.json").is_file()
    # The same card: the loss read back from the object equals the CLI's config (no config.yaml outside the CLI).
    python_card, cli_card = ((d / "model" / "README.md").read_text() for d in (python_dir, cli_dir))
    (loss_line,) = [line for line in cli_card.splitlines() if line.startswith("- **Loss:**")]
    assert loss_line.startswith("- **Loss:** `lightning_modules.losses.CoSENTLoss` with `{")
    assert json.loads(loss_line.split("with `", 1)[1].rstrip("`")) == {
        "scale": 20.0,
        "similarity_fct": "cosine_similarity",
    }
    assert loss_line in python_card.splitlines()
    assert "```yaml" in cli_card and "```yaml" not in python_card


def test_plain_python_fit_refuses_a_loss_the_data_cannot_feed(tiny_model_dir: Path, tmp_path: Path, data_dir: Path):
    module = EmbeddingLitModule(HFEncoder(str(tiny_model_dir)), BatchHardTripletLoss())
    data = EmbeddingDataModule(NamedSource("stsb"), tokenizer=str(tiny_model_dir))
    trainer = pl.Trainer(default_root_dir=str(tmp_path), max_steps=1, logger=False, enable_progress_bar=False)
    with pytest.raises(SetupError, match="BatchHardTripletLoss cannot train on scored_pair"):
        trainer.fit(module, data)
    assert trainer.global_step == 0
