"""CachedMultipleNegativesSymmetricRankingLoss: the symmetric InfoNCE with gradient caching (ST 6.2)."""

from __future__ import annotations

from lightning_modules.losses.gradient_cached import CachedTraining
from lightning_modules.losses.multiple_negatives_ranking import RankingSimilarity
from lightning_modules.losses.multiple_negatives_symmetric_ranking import MultipleNegativesSymmetricRankingLoss


class CachedMultipleNegativesSymmetricRankingLoss(CachedTraining, MultipleNegativesSymmetricRankingLoss):
    """`MultipleNegativesSymmetricRankingLoss` computed with GradCache, for batches larger than memory allows.

    Anchors retrieve their positive and positives their anchor, each direction with its own softmax; the
    batch is embedded in mini-batches and the loss's gradient w.r.t. the embeddings cached and replayed
    into the encoder, so value and gradients are those of the uncached loss at the memory of one
    mini-batch. sentence-transformers 6.2 deprecates its class of this name in favour of
    ``CachedMultipleNegativesRankingLoss(directions=("query_to_doc", "doc_to_query"),
    partition_mode="per_direction")``, which is exactly what this is; kept for configs that name it.

    Args:
        scale: Multiplier of the similarities (``1 / temperature``).
        similarity_fct: ``cosine_similarity`` (default) or ``dot``.
        mini_batch_size: Sequences per forward pass; bounds the memory, not the number of negatives.
        mini_batch_num_tokens: Pack mini-batches by non-padding tokens instead: consecutive sequences up to
            this many tokens per forward pass (sentence-transformers 6.2); ``None`` uses ``mini_batch_size``.
        gather_across_devices: Gather anchors and documents from every rank (with gradients).

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
        Equivalent to ``GradientCachedLoss(MultipleNegativesSymmetricRankingLoss(...), mini_batch_size)``;
        hard negatives, if given, join the forward term's candidates (as in sentence-transformers 6.2).

    Statistics:
        Those of :class:`MultipleNegativesRankingLoss` (forward direction).

    References:
        Henderson et al. 2017 (https://arxiv.org/abs/1705.00652); Gao et al. 2021, Scaling Deep Contrastive
        Learning Batch Size under Memory Limited Setup (https://arxiv.org/abs/2101.06983).

    Example:
        ``loss: {class_path: lightning_modules.losses.cached_multiple_negatives_symmetric_ranking.``
        ``CachedMultipleNegativesSymmetricRankingLoss, init_args: {mini_batch_size: 32}}``
    """

    def __init__(
        self,
        scale: float = 20.0,
        similarity_fct: RankingSimilarity = "cosine_similarity",
        mini_batch_size: int = 32,
        mini_batch_num_tokens: int | None = None,
        gather_across_devices: bool = False,
    ) -> None:
        super().__init__(scale=scale, similarity_fct=similarity_fct, gather_across_devices=gather_across_devices)
        self._init_cache(mini_batch_size, mini_batch_num_tokens)
