"""EmbeddingLitModule: loss statistics are computed on Lightning's logging steps only, and logged there."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import CSVLogger
from pytorch_metric_learning.losses import ArcFaceLoss
from safetensors.torch import load_file
from torch import Tensor
from torch.utils.data import DataLoader

from core.batch_formats import BatchFormat
from lightning_modules.embedding_module import EmbeddingLitModule
from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.losses.base import LossOutput
from lightning_modules.losses.metric_learning import MetricLearningLoss
from lightning_modules.losses.multiple_negatives_ranking import MultipleNegativesRankingLoss
from tests.lightning_modules.losses.text_batches import text_batch


class _CountingLoss(MultipleNegativesRankingLoss):
    """MNRL whose statistics are a function that counts its calls."""

    calls = 0

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        out = super().forward(embeddings, labels)

        def statistics() -> dict[str, Tensor]:
            type(self).calls += 1
            return out.stats

        return LossOutput(out.loss, statistics)


def test_statistics_are_computed_and_logged_on_logging_steps_only(tiny_model_dir: Path, tmp_path: Path) -> None:
    encoder = HFEncoder(str(tiny_model_dir))
    batch = text_batch(encoder, BatchFormat.PAIR, 4)
    module = EmbeddingLitModule(encoder, _CountingLoss(), optimizer=lambda params: torch.optim.SGD(params, lr=0.1))
    trainer = pl.Trainer(
        max_steps=6,
        log_every_n_steps=3,
        logger=CSVLogger(str(tmp_path), name="", version=""),
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(module, train_dataloaders=DataLoader([batch] * 6, batch_size=None))
    assert _CountingLoss.calls == 2
    with open(tmp_path / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    logged = {int(row["step"]) for row in rows if row.get("train/loss")}
    with_statistics = {int(row["step"]) for row in rows if row.get("train/loss/accuracy")}
    assert logged == with_statistics == {2, 5}


@pytest.mark.parametrize("loss_lr", [None, 0.5])
def test_loss_parameters_train_in_their_own_group_go_into_checkpoints_and_stay_out_of_the_export(
    loss_lr: float | None, tiny_model_dir: Path, tmp_path: Path
) -> None:
    encoder = HFEncoder(str(tiny_model_dir))
    torch.manual_seed(0)
    loss = MetricLearningLoss(ArcFaceLoss(num_classes=2, embedding_size=encoder.embedding_dim), loss_lr=loss_lr)
    module = EmbeddingLitModule(encoder, loss, optimizer=lambda params: torch.optim.SGD(params, lr=0.1))
    weights = loss.loss.W.detach().clone()
    batch = text_batch(encoder, BatchFormat.LABELED, 4, torch.tensor([0, 0, 1, 1]))
    trainer = pl.Trainer(
        max_steps=2, logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False
    )
    trainer.fit(module, train_dataloaders=DataLoader([batch] * 2, batch_size=None))

    encoder_group, loss_group = trainer.optimizers[0].param_groups
    assert len(encoder_group["params"]) == len(list(encoder.parameters()))
    assert len(loss_group["params"]) == 1 and loss_group["params"][0] is loss.loss.W
    assert encoder_group["initial_lr"] == 0.1 and loss_group["initial_lr"] == (loss_lr or 0.1)
    assert not torch.equal(loss.loss.W, weights), "the class weights did not train"

    trainer.save_checkpoint(tmp_path / "last.ckpt")
    state = torch.load(tmp_path / "last.ckpt", map_location="cpu", weights_only=False)["state_dict"]
    assert torch.equal(state["loss.loss.W"], loss.loss.W)
    exported = load_file(encoder.save_sentence_transformer(tmp_path / "model") / "model.safetensors")
    transformer = encoder.transformer.state_dict()
    assert len(exported) == len(transformer) and sum(t.numel() for t in exported.values()) == sum(
        t.numel() for t in transformer.values()
    )
    assert not any(t.shape == loss.loss.W.shape for t in exported.values())
