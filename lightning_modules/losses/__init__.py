"""Every losslab loss, importable by class name (``class_path: CoSENTLoss`` in YAML)."""

from __future__ import annotations

from lightning_modules.losses.adaptive_layer import AdaptiveLayerLoss
from lightning_modules.losses.angle import AnglELoss
from lightning_modules.losses.base import EmbeddingLoss, LossOutput
from lightning_modules.losses.batch_all_triplet import BatchAllTripletLoss
from lightning_modules.losses.batch_hard_soft_margin_triplet import BatchHardSoftMarginTripletLoss
from lightning_modules.losses.batch_hard_triplet import BatchHardTripletLoss
from lightning_modules.losses.batch_semi_hard_triplet import BatchSemiHardTripletLoss
from lightning_modules.losses.cached_gist_embed import CachedGISTEmbedLoss
from lightning_modules.losses.cached_multiple_negatives_ranking import CachedMultipleNegativesRankingLoss
from lightning_modules.losses.cached_multiple_negatives_symmetric_ranking import (
    CachedMultipleNegativesSymmetricRankingLoss,
)
from lightning_modules.losses.contrastive import ContrastiveLoss
from lightning_modules.losses.contrastive_tension import ContrastiveTensionLoss
from lightning_modules.losses.contrastive_tension_in_batch_negatives import ContrastiveTensionLossInBatchNegatives
from lightning_modules.losses.cosent import CoSENTLoss
from lightning_modules.losses.cosine_similarity import CosineSimilarityLoss
from lightning_modules.losses.denoising_auto_encoder import DenoisingAutoEncoderLoss
from lightning_modules.losses.distill_kl_div import DistillKLDivLoss
from lightning_modules.losses.embed_distill import EmbedDistillLoss
from lightning_modules.losses.gist_embed import GISTEmbedLoss
from lightning_modules.losses.global_orthogonal_regularization import GlobalOrthogonalRegularizationLoss
from lightning_modules.losses.gradient_cached import GradientCachedLoss
from lightning_modules.losses.margin_mse import MarginMSELoss
from lightning_modules.losses.matryoshka import MatryoshkaLoss
from lightning_modules.losses.matryoshka_2d import Matryoshka2dLoss
from lightning_modules.losses.mega_batch_margin import MegaBatchMarginLoss
from lightning_modules.losses.metric_learning import MetricLearningLoss
from lightning_modules.losses.mse import MSELoss
from lightning_modules.losses.multiple_negatives_ranking import MultipleNegativesRankingLoss
from lightning_modules.losses.multiple_negatives_symmetric_ranking import MultipleNegativesSymmetricRankingLoss
from lightning_modules.losses.online_contrastive import OnlineContrastiveLoss
from lightning_modules.losses.softmax import SoftmaxLoss
from lightning_modules.losses.triplet import TripletLoss
from lightning_modules.losses.weighted_sum import WeightedSumLoss

# The public loss family, in the order `losslab losses` and the README list it.
LOSSES: tuple[type[EmbeddingLoss], ...] = (
    BatchAllTripletLoss,
    BatchHardTripletLoss,
    BatchSemiHardTripletLoss,
    BatchHardSoftMarginTripletLoss,
    TripletLoss,
    ContrastiveLoss,
    OnlineContrastiveLoss,
    ContrastiveTensionLoss,
    ContrastiveTensionLossInBatchNegatives,
    CoSENTLoss,
    AnglELoss,
    CosineSimilarityLoss,
    DenoisingAutoEncoderLoss,
    MSELoss,
    MarginMSELoss,
    DistillKLDivLoss,
    EmbedDistillLoss,
    MatryoshkaLoss,
    Matryoshka2dLoss,
    AdaptiveLayerLoss,
    MegaBatchMarginLoss,
    MultipleNegativesRankingLoss,
    CachedMultipleNegativesRankingLoss,
    MultipleNegativesSymmetricRankingLoss,
    CachedMultipleNegativesSymmetricRankingLoss,
    GISTEmbedLoss,
    CachedGISTEmbedLoss,
    SoftmaxLoss,
    GlobalOrthogonalRegularizationLoss,
    GradientCachedLoss,
    WeightedSumLoss,
    MetricLearningLoss,
)

__all__ = ["LOSSES", "EmbeddingLoss", "LossOutput", *(cls.__name__ for cls in LOSSES)]
