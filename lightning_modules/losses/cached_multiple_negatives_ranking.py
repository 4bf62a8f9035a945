"""CachedMultipleNegativesRankingLoss: MultipleNegativesRankingLoss with gradient caching."""

from __future__ import annotations

from collections.abc import Sequence

from lightning_modules.losses.gradient_cached import CachedTraining
from lightning_modules.losses.multiple_negatives_ranking import (
    Direction,
    HardnessMode,
    MultipleNegativesRankingLoss,
    PartitionMode,
    RankingSimilarity,
)


class CachedMultipleNegativesRankingLoss(CachedTraining, MultipleNegativesRankingLoss):
    """:class:`MultipleNegativesRankingLoss` computed with GradCache, for batches larger than memory allows.

    The batch is embedded in mini-batches without a graph, the loss's gradient w.r.t. the embeddings is
    cached, and the backward pass re-embeds each mini-batch (replaying its dropout masks) to push the
    cached gradient into the encoder. Same value and gradients as the uncached loss; activation memory of
    ``mini_batch_size`` sequences; roughly one extra forward pass of compute.

    Args:
        scale: Multiplier of the similarities (``1 / temperature``).
        similarity_fct: ``cosine_similarity`` (default) or ``dot``.
        gather_across_devices: Gather anchors and documents from every rank (with gradients).
        directions: Interaction terms, see :class:`MultipleNegativesRankingLoss`.
        partition_mode: ``joint`` or ``per_direction``.
        hardness_mode: Optional hardness weighting of negatives.
        hardness_strength: The weighting strength (alpha).
        mini_batch_size: Sequences per forward pass; bounds the memory, not the number of negatives.
        mini_batch_num_tokens: Pack mini-batches by non-padding tokens instead: consecutive sequences up to
            this many tokens per forward pass (sentence-transformers 6.2); ``None`` uses ``mini_batch_size``.

    Inputs:
        +-------------------------------------------------+--------+
        | Texts                                           | Labels |
        +=================================================+========+
        | (anchor, positive) pairs                        | none   |
        +-------------------------------------------------+--------+
        | (anchor, positive, negative_1, ..., negative_n) | none   |
        +-------------------------------------------------+--------+

    Requirements:
        Batches without duplicate texts; a large batch size with a small ``mini_batch_size``.

    Relations:
        Equivalent to ``GradientCachedLoss(MultipleNegativesRankingLoss(...), mini_batch_size)``.

    References:
        Gao et al. 2021, Scaling Deep Contrastive Learning Batch Size under Memory Limited Setup
        (https://arxiv.org/abs/2101.06983).

    Example:
        ``loss: {class_path: lightning_modules.losses.cached_multiple_negatives_ranking.``
        ``CachedMultipleNegativesRankingLoss, init_args: {mini_batch_size: 32}}``
    """

    def __init__(
        self,
        scale: float = 20.0,
        similarity_fct: RankingSimilarity = "cosine_similarity",
        gather_across_devices: bool = False,
        directions: Sequence[Direction] = ("query_to_doc",),
        partition_mode: PartitionMode = "joint",
        hardness_mode: HardnessMode | None = None,
        hardness_strength: float = 0.0,
        mini_batch_size: int = 32,
        mini_batch_num_tokens: int | None = None,
    ) -> None:
        super().__init__(
            scale=scale,
            similarity_fct=similarity_fct,
            gather_across_devices=gather_across_devices,
            directions=directions,
            partition_mode=partition_mode,
            hardness_mode=hardness_mode,
            hardness_strength=hardness_strength,
        )
        self._init_cache(mini_batch_size, mini_batch_num_tokens)
