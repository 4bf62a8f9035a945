"""The Lightning internals ``core.trainer_progress`` reads, pinned to what a real fit does."""

from __future__ import annotations

from typing import Any

import pytest
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from core.trainer_progress import batches_trained_this_epoch, logs_this_step, validation_follows_this_batch


class _Model(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self.layer(batch[0]).pow(2).mean()

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self.log("val", self.layer(batch[0]).mean())

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


class _Recorder(pl.Callback):
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        step = trainer.global_step
        self.events.append(("batch", step, logs_this_step(trainer), batches_trained_this_epoch(trainer)))
        self.events.append(("follows", step, validation_follows_this_batch(trainer)))

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.sanity_checking:
            self.events.append(("validated", trainer.global_step))


@pytest.mark.parametrize(("val_check_interval", "validated_at"), [(3, [3, 6, 10, 13]), (1.0, [7, 14])])
def test_the_three_facts_match_what_the_fit_does(val_check_interval, validated_at, tmp_path) -> None:
    data = DataLoader(TensorDataset(torch.randn(14, 2)), batch_size=2)  # 7 batches an epoch
    recorder = _Recorder()
    trainer = pl.Trainer(
        max_epochs=2,
        val_check_interval=val_check_interval,
        log_every_n_steps=2,
        limit_val_batches=1,
        callbacks=[recorder],
        logger=pl.loggers.CSVLogger(tmp_path),
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        default_root_dir=tmp_path,
    )
    trainer.fit(_Model(), data, data)
    batches = [e for e in recorder.events if e[0] == "batch"]
    assert [e[1] for e in batches] == list(range(1, 15))
    # Lightning writes step metrics on every log_every_n_steps-th stepped batch.
    assert [e[2] for e in batches] == [step % 2 == 0 for step in range(1, 15)]
    assert [e[3] for e in batches] == [*range(1, 8), *range(1, 8)]
    follows = [e[1] for e in recorder.events if e[0] == "follows" and e[2]]
    validated = [e[1] for e in recorder.events if e[0] == "validated"]
    assert follows == validated == validated_at
    assert batches_trained_this_epoch(None) is None and logs_this_step(None)
