"""CachedGISTEmbedLoss: GISTEmbedLoss with gradient caching (sentence-transformers 6.2)."""

from __future__ import annotations

from lightning_modules.losses.gist_embed import GISTEmbedLoss, MarginStrategy
from lightning_modules.losses.gradient_cached import CachedTraining


class CachedGISTEmbedLoss(CachedTraining, GISTEmbedLoss):
    """:class:`~lightning_modules.losses.gist_embed.GISTEmbedLoss` computed with GradCache, for large batches.

    The batch is embedded in mini-batches without a graph, the loss's gradient w.r.t. the embeddings is
    cached, and the backward pass re-embeds each mini-batch (replaying its dropout masks) to push that
    gradient into the encoder: the value and gradients of GISTEmbedLoss with the activation memory of one
    mini-batch. The guide costs nothing here: its embeddings are the batch's labels (``distill: guide``),
    whereas sentence-transformers runs the guide over every mini-batch of every step.

    Args:
        temperature: Divisor of the cosine similarities.
        mini_batch_size: Sequences per forward pass; bounds the memory, not the number of negatives.
        mini_batch_num_tokens: Pack mini-batches by non-padding tokens instead: consecutive sequences up to
            this many tokens per forward pass (sentence-transformers 6.2); ``None`` uses ``mini_batch_size``.
        margin_strategy: ``absolute`` or ``relative`` false-negative threshold.
        margin: The margin of the threshold.
        contrast_anchors: Also contrast each anchor with the other anchors.
        contrast_positives: Also contrast each positive with the other positives.
        gather_across_devices: Gather positives and negatives from every rank (with gradients).

    Inputs:
        +------------------------------------------------------------+------------------------------------+
        | Texts                                                      | Labels                             |
        +============================================================+====================================+
        | guided (anchor, positive[, negative_1, ..., negative_n])   | ``(B, columns, D)`` guide          |
        |                                                            | embeddings (``distill: guide``)    |
        +------------------------------------------------------------+------------------------------------+

    Requirements:
        Batches without duplicate texts; a large batch size with a small ``mini_batch_size``.

    Relations:
        Equivalent to ``GradientCachedLoss(GISTEmbedLoss(...), mini_batch_size)``. sentence-transformers'
        ``show_progress_bar`` has no counterpart (Lightning shows the steps).

    Statistics:
        Those of :class:`~lightning_modules.losses.gist_embed.GISTEmbedLoss`.

    References:
        Solatorio 2024 (https://arxiv.org/abs/2402.16829); Gao et al. 2021, Scaling Deep Contrastive
        Learning Batch Size under Memory Limited Setup (https://arxiv.org/abs/2101.06983).

    Example:
        ``loss: {class_path: lightning_modules.losses.cached_gist_embed.CachedGISTEmbedLoss, init_args:
        {mini_batch_size: 32}}``
    """

    def __init__(
        self,
        temperature: float = 0.01,
        mini_batch_size: int = 32,
        mini_batch_num_tokens: int | None = None,
        margin_strategy: MarginStrategy = "absolute",
        margin: float = 0.0,
        contrast_anchors: bool = True,
        contrast_positives: bool = True,
        gather_across_devices: bool = False,
    ) -> None:
        super().__init__(
            temperature=temperature,
            margin_strategy=margin_strategy,
            margin=margin,
            contrast_anchors=contrast_anchors,
            contrast_positives=contrast_positives,
            gather_across_devices=gather_across_devices,
        )
        self._init_cache(mini_batch_size, mini_batch_num_tokens)
