"""MatryoshkaLoss: train any embedding loss on several truncations of the embeddings at once."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch.nn.functional as F
from torch import Tensor

from core.batch_formats import TokenizedBatch
from lightning_modules.losses.base import EmbeddingLoss, LossOutput
from lightning_modules.losses.wrapper_loss import WrapperLoss
from lightning_modules.strategies.embedding_passes import EmbeddingPass, embedding_passes

if TYPE_CHECKING:
    from lightning_modules.encoders.hf_encoder import HFEncoder


def shrink(embeddings: Tensor, dim: int) -> Tensor:
    """The first ``dim`` components, L2-normalised (as sentence-transformers' Matryoshka ``shrink``)."""
    if dim > embeddings.shape[-1]:
        raise ValueError(f"matryoshka dimension {dim} exceeds the embedding dimension {embeddings.shape[-1]}")
    return F.normalize(embeddings[..., :dim], p=2, dim=-1)


class MatryoshkaLoss(WrapperLoss):
    r"""Apply a loss to truncated embeddings of several sizes, so that prefixes of the embedding work alone.

    .. math::
        \mathcal{L} = \sum_{d \in \text{dims}} w_d\, \mathcal{L}_{\text{base}}\big(\mathrm{normalize}(E_{:, :d})\big)

    As sentence-transformers, every truncation is re-normalised (equivalent for cosine-based losses),
    labels that are embeddings of the full size (distillation) are truncated too, and with
    ``n_dims_per_step > 0`` only that many dimensions, drawn with ``random.sample``, are used per step.

    Args:
        loss: The base loss, applied at every dimension.
        matryoshka_dims: Embedding sizes to train, e.g. ``[384, 256, 128, 64]``; include the full size.
        matryoshka_weights: One weight per dimension (default all 1).
        n_dims_per_step: Dimensions sampled per step; ``-1`` uses all.

    Inputs:
        Those of the base loss (``accepts`` and ``sampling`` are the base loss's).

    Relations:
        :class:`~lightning_modules.losses.matryoshka_2d.Matryoshka2dLoss` adds the layer dimension.
        For gradient caching wrap this loss: ``GradientCachedLoss(MatryoshkaLoss(...))``.

    Statistics:
        ``dim_<d>/loss`` for every trained dimension, and the base loss's statistics as ``dim_<d>/<name>``.

    References:
        Kusupati et al. 2022, Matryoshka Representation Learning (https://arxiv.org/abs/2205.13147).

    Example:
        ``loss: {class_path: lightning_modules.losses.matryoshka.MatryoshkaLoss, init_args: {loss: {class_path:
        lightning_modules.losses.multiple_negatives_ranking.MultipleNegativesRankingLoss},
        matryoshka_dims: [384, 256, 128, 64]}}``
    """

    def __init__(
        self,
        loss: EmbeddingLoss,
        matryoshka_dims: Sequence[int],
        matryoshka_weights: Sequence[float] | None = None,
        n_dims_per_step: int = -1,
    ) -> None:
        super().__init__(loss)
        if not matryoshka_dims:
            raise ValueError("matryoshka_dims must name at least one dimension")
        if any(d <= 0 for d in matryoshka_dims):
            raise ValueError(f"matryoshka_dims must all be > 0, got {list(matryoshka_dims)}")
        if matryoshka_weights is None:
            matryoshka_weights = [1.0] * len(matryoshka_dims)
        if len(matryoshka_weights) != len(matryoshka_dims):
            raise ValueError(
                f"matryoshka_weights must have one weight per dimension ({len(matryoshka_dims)}), "
                f"got {len(matryoshka_weights)}"
            )
        if n_dims_per_step != -1 and n_dims_per_step < 1:
            raise ValueError(f"n_dims_per_step must be -1 (all) or >= 1, got {n_dims_per_step}")
        # Largest first, as sentence-transformers: the sampled indices refer to this order.
        pairs = sorted(zip(matryoshka_dims, matryoshka_weights, strict=True), key=lambda p: p[0], reverse=True)
        self.matryoshka_dims = tuple(d for d, _ in pairs)
        self.matryoshka_weights = tuple(float(w) for _, w in pairs)
        self.n_dims_per_step = n_dims_per_step

    def bind_encoder(self, encoder: HFEncoder) -> None:
        """Check the dimensions against the encoder and pass it on to a base loss that needs it."""
        too_large = [d for d in self.matryoshka_dims if d > encoder.embedding_dim]
        if too_large:
            raise ValueError(f"matryoshka_dims {too_large} exceed the encoder's dimension {encoder.embedding_dim}")
        super().bind_encoder(encoder)

    def embedding_passes(self, encoder: HFEncoder, batch: TokenizedBatch) -> list[EmbeddingPass]:
        """The base loss's forward passes (the truncation happens on their embeddings)."""
        return embedding_passes(self.loss, encoder, batch)

    def training_loss(self, encoder: HFEncoder, batch: TokenizedBatch) -> LossOutput:
        """Embed with the base loss's forward passes, then apply :meth:`forward`."""
        return self([p.encode(p.features) for p in self.embedding_passes(encoder, batch)], batch.labels)

    def dim_indices(self) -> list[int]:
        """Indices (into ``matryoshka_dims``) trained this step, sampled as sentence-transformers does."""
        indices = list(range(len(self.matryoshka_dims)))
        if 0 < self.n_dims_per_step < len(indices):
            return sorted(random.sample(indices, self.n_dims_per_step))
        return indices

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """Weighted sum of the base loss over the truncated embeddings.

        Args:
            embeddings: Full-size embeddings, one ``(B, D)`` tensor per column.
            labels: The base loss's labels; full-size embedding labels are truncated alongside.

        Returns:
            The loss and per-dimension statistics.
        """
        full_dim = embeddings[0].shape[-1]
        total: Tensor | float = 0.0
        stats: dict[str, Tensor] = {}
        for idx in self.dim_indices():
            dim, weight = self.matryoshka_dims[idx], self.matryoshka_weights[idx]
            dim_labels = labels
            if labels is not None and labels.ndim in (2, 3) and labels.shape[-1] == full_dim:
                dim_labels = labels[..., :dim]
            out = self.loss([shrink(e, dim) for e in embeddings], dim_labels)
            total = total + weight * out.loss
            stats[f"dim_{dim}/loss"] = out.loss.detach()
            stats.update({f"dim_{dim}/{name}": value for name, value in out.stats.items()})
        assert isinstance(total, Tensor)
        return LossOutput(total, stats)
