"""EmbeddingLitModule: loss statistics are computed on Lightning's logging steps only, and logged there."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import CSVLogger
from torch import Tensor
from torch.utils.data import DataLoader

from core.batch_formats import BatchFormat
from lightning_modules.embedding_module import EmbeddingLitModule
from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.losses.base import LossOutput
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
