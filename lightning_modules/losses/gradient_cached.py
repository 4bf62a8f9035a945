"""GradientCachedLoss: any in-batch loss, computed with gradient caching for large batches."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.batch_formats import TokenizedBatch
from lightning_modules.losses.base import EmbeddingLoss, LossOutput
from lightning_modules.losses.wrapper_loss import WrapperLoss
from lightning_modules.strategies.gradient_cache import GradientCache

if TYPE_CHECKING:
    from lightning_modules.encoders.hf_encoder import HFEncoder


class CachedTraining:
    """Mixin of the sentence-transformers ``Cached*`` losses: their own ``forward``, with gradient caching.

    ``training_loss`` embeds the batch in mini-batches and computes the loss with cached gradients
    (:class:`~lightning_modules.strategies.gradient_cache.GradientCache`); ``forward`` stays the uncached
    loss's, so the value and gradients are the uncached loss's.
    """

    def _init_cache(self, mini_batch_size: int, mini_batch_num_tokens: int | None) -> None:
        self.mini_batch_size = mini_batch_size
        self.mini_batch_num_tokens = mini_batch_num_tokens
        self._cache = GradientCache(mini_batch_size, mini_batch_num_tokens=mini_batch_num_tokens)

    def training_loss(self, encoder: HFEncoder, batch: TokenizedBatch) -> LossOutput:
        """Embed the batch in mini-batches and compute the loss with cached gradients."""
        return self._cache(self, encoder, batch)


class GradientCachedLoss(WrapperLoss):
    """Wraps an in-batch loss so that its batch is embedded in mini-batches (GradCache).

    The value and the gradients equal those of the wrapped loss (dropout masks are replayed), while
    activation memory is that of ``mini_batch_size`` sequences, so batches (and thus the number of
    in-batch negatives) can grow far beyond what fits in memory. Costs one extra forward pass.

    Args:
        loss: The loss to compute: any loss that is a function of the batch's embeddings
            (MultipleNegativesRankingLoss, batch triplet losses, MatryoshkaLoss over those, ...) or that
            declares its forward passes (``embedding_passes``, e.g. ContrastiveTensionLossInBatchNegatives).
        mini_batch_size: Sequences per forward pass.
        mini_batch_num_tokens: Pack mini-batches by non-padding tokens instead: consecutive sequences up to
            this many tokens per forward pass (sentence-transformers 6.2); ``None`` uses ``mini_batch_size``.
        defer_gradient_sync: Accumulate each parameter's gradient once per step, as DistributedDataParallel
            requires; ``None`` (default) decides by whether a multi-rank process group is initialised.

    Inputs:
        Those of the wrapped loss (``accepts`` and ``sampling`` are the wrapped loss's).

    Relations:
        :class:`~lightning_modules.losses.cached_multiple_negatives_ranking.CachedMultipleNegativesRankingLoss`
        is ``GradientCachedLoss(MultipleNegativesRankingLoss(...))`` with sentence-transformers' arguments.

    References:
        Gao et al. 2021, Scaling Deep Contrastive Learning Batch Size under Memory Limited Setup
        (https://arxiv.org/abs/2101.06983).

    Example:
        ``loss: {class_path: lightning_modules.losses.gradient_cached.GradientCachedLoss, init_args: {loss:
        {class_path: lightning_modules.losses.batch_all_triplet.BatchAllTripletLoss}, mini_batch_size: 16}}``
    """

    def __init__(
        self,
        loss: EmbeddingLoss,
        mini_batch_size: int = 32,
        mini_batch_num_tokens: int | None = None,
        defer_gradient_sync: bool | None = None,
    ) -> None:
        super().__init__(loss)
        self.mini_batch_size = mini_batch_size
        self.mini_batch_num_tokens = mini_batch_num_tokens
        self._cache = GradientCache(mini_batch_size, defer_gradient_sync, mini_batch_num_tokens)

    def training_loss(self, encoder: HFEncoder, batch: TokenizedBatch) -> LossOutput:
        """The wrapped loss, with the batch embedded in mini-batches and gradients cached."""
        return self._cache(self.loss, encoder, batch)
