"""Every losslab loss, importable by class name (``class_path: CoSENTLoss`` in YAML)."""

from __future__ import annotations

from lightning_modules.losses.base import EmbeddingLoss, LossOutput
from lightning_modules.losses.batch_hard_triplet import BatchHardTripletLoss
from lightning_modules.losses.cosent import CoSENTLoss
from lightning_modules.losses.multiple_negatives_ranking import MultipleNegativesRankingLoss

LOSSES: tuple[type[EmbeddingLoss], ...] = (
    BatchHardTripletLoss,
    CoSENTLoss,
    MultipleNegativesRankingLoss,
)

__all__ = ["LOSSES", "EmbeddingLoss", "LossOutput", *(cls.__name__ for cls in LOSSES)]
