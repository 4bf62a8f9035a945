"""Matryoshka2dLoss: AdaptiveLayerLoss over MatryoshkaLoss (2D Matryoshka Sentence Embeddings)."""

from __future__ import annotations

from collections.abc import Sequence

from lightning_modules.losses.adaptive_layer import AdaptiveLayerLoss
from lightning_modules.losses.base import EmbeddingLoss
from lightning_modules.losses.matryoshka import MatryoshkaLoss


class Matryoshka2dLoss(AdaptiveLayerLoss):
    """Train truncated embeddings of the last and of sampled earlier layers: layers x dimensions.

    Exactly ``AdaptiveLayerLoss(MatryoshkaLoss(loss, ...), ...)``, as in sentence-transformers; the KL
    term compares full-size embeddings.

    Args:
        loss: The base loss, applied at every trained layer and dimension.
        matryoshka_dims: Embedding sizes to train; include the full size.
        matryoshka_weights: One weight per dimension (default all 1).
        n_layers_per_step: Earlier layers sampled per step; ``-1`` or ``0`` use all.
        n_dims_per_step: Dimensions sampled per step and layer; ``-1`` uses all.
        last_layer_weight: Weight of the last layer's loss.
        prior_layers_weight: Weight of the (averaged) earlier layers' losses.
        kl_div_weight: Weight of the KL distillation term.
        kl_temperature: Softmax temperature of the KL term; ``0`` disables it.

    Inputs:
        Those of the base loss.

    Relations:
        See :class:`~lightning_modules.losses.adaptive_layer.AdaptiveLayerLoss` and
        :class:`~lightning_modules.losses.matryoshka.MatryoshkaLoss`.

    Statistics:
        Those of AdaptiveLayerLoss, with MatryoshkaLoss's per-dimension statistics of the last layer.

    References:
        Li et al. 2024, 2D Matryoshka Sentence Embeddings (https://arxiv.org/abs/2402.14776).

    Example:
        ``loss: {class_path: lightning_modules.losses.matryoshka_2d.Matryoshka2dLoss, init_args: {loss:
        {class_path: lightning_modules.losses.cosent.CoSENTLoss}, matryoshka_dims: [384, 128, 64]}}``
    """

    def __init__(
        self,
        loss: EmbeddingLoss,
        matryoshka_dims: Sequence[int],
        matryoshka_weights: Sequence[float] | None = None,
        n_layers_per_step: int = 1,
        n_dims_per_step: int = 1,
        last_layer_weight: float = 1.0,
        prior_layers_weight: float = 1.0,
        kl_div_weight: float = 1.0,
        kl_temperature: float = 0.3,
    ) -> None:
        super().__init__(
            MatryoshkaLoss(loss, matryoshka_dims, matryoshka_weights, n_dims_per_step=n_dims_per_step),
            n_layers_per_step=n_layers_per_step,
            last_layer_weight=last_layer_weight,
            prior_layers_weight=prior_layers_weight,
            kl_div_weight=kl_div_weight,
            kl_temperature=kl_temperature,
        )
