"""AdaptiveLayerLoss: train the last layer and sampled earlier layers, each with the base loss."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor

from core.batch_formats import TokenizedBatch
from lightning_modules.losses.base import EmbeddingLoss, LossOutput
from lightning_modules.losses.wrapper_loss import WrapperLoss
from lightning_modules.strategies.embedding_passes import embedding_passes

if TYPE_CHECKING:
    from lightning_modules.encoders.hf_encoder import HFEncoder


class AdaptiveLayerLoss(WrapperLoss):
    r"""Make earlier transformer layers usable as embedding models, as in 2D Matryoshka Sentence Embeddings.

    With :math:`E^{(l)}` the pooled embeddings after layer :math:`l` (:math:`L` the last) and :math:`S` the
    sampled earlier layers:

    .. math::
        \mathcal{L} = w_{\text{last}}\,\mathcal{L}_{\text{base}}(E^{(L)}) + \sum_{l \in S}\Big(
            \tfrac{w_{\text{prior}}}{|S|}\mathcal{L}_{\text{base}}(E^{(l)})
            + w_{\text{KL}}\,T\,\mathrm{KL}\big(\mathrm{softmax}(E^{(L)}/T)\,\|\,\mathrm{softmax}(E^{(l)}/T)\big)\Big)

    The KL term (batch mean over the rows of all columns, the last layer detached) distils the last layer
    into earlier ones. Follows sentence-transformers' AdaptiveLayerLoss with uniform layer weighting; like
    it, the candidate earlier layers are the embedding layer's output and transformer layers ``1 .. L-1``
    (the encoder's ``forward_all_layers``).

    Args:
        loss: The base loss, applied at every trained layer.
        n_layers_per_step: Earlier layers sampled per step (``random.sample``); ``-1`` or ``0`` use all.
        last_layer_weight: Weight of the last layer's loss.
        prior_layers_weight: Weight of the (averaged) earlier layers' losses.
        kl_div_weight: Weight of the KL distillation term.
        kl_temperature: Softmax temperature of the KL term; ``0`` disables it.

    Inputs:
        Those of the base loss (``accepts`` and ``sampling`` are the base loss's).

    Requirements:
        A base loss computed from the trained encoder's embeddings of each column.

    Relations:
        :class:`~lightning_modules.losses.matryoshka_2d.Matryoshka2dLoss` is this loss over a MatryoshkaLoss.

    Statistics:
        ``last_layer_loss``, ``prior_layers_loss`` (mean over sampled layers), ``kl_div`` (mean), and the
        base loss's statistics at the last layer.

    References:
        Li et al. 2024, 2D Matryoshka Sentence Embeddings (https://arxiv.org/abs/2402.14776).

    Example:
        ``loss: {class_path: lightning_modules.losses.adaptive_layer.AdaptiveLayerLoss, init_args: {loss:
        {class_path: lightning_modules.losses.multiple_negatives_ranking.MultipleNegativesRankingLoss}}}``
    """

    def __init__(
        self,
        loss: EmbeddingLoss,
        n_layers_per_step: int = 1,
        last_layer_weight: float = 1.0,
        prior_layers_weight: float = 1.0,
        kl_div_weight: float = 1.0,
        kl_temperature: float = 0.3,
    ) -> None:
        super().__init__(loss)
        if n_layers_per_step < -1:
            raise ValueError(f"n_layers_per_step must be -1/0 (all) or >= 1, got {n_layers_per_step}")
        for name, value in (
            ("last_layer_weight", last_layer_weight),
            ("prior_layers_weight", prior_layers_weight),
            ("kl_div_weight", kl_div_weight),
            ("kl_temperature", kl_temperature),
        ):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        self.n_layers_per_step = n_layers_per_step
        self.last_layer_weight = last_layer_weight
        self.prior_layers_weight = prior_layers_weight
        self.kl_div_weight = kl_div_weight
        self.kl_temperature = kl_temperature

    def training_loss(self, encoder: HFEncoder, batch: TokenizedBatch) -> LossOutput:
        """Embed every column at every layer and apply :meth:`layer_loss`."""
        passes = embedding_passes(self.loss, encoder, batch)
        if any(p.encode is not encoder for p in passes):
            raise ValueError(f"{type(self).__name__} needs every column embedded by the trained encoder")
        per_column = [encoder.forward_all_layers(p.features) for p in passes]
        return self.layer_loss([list(layer) for layer in zip(*per_column, strict=True)], batch.labels)

    def layer_indices(self, n_prior_layers: int) -> list[int]:
        """Earlier layers trained this step, sampled as sentence-transformers does."""
        indices = list(range(n_prior_layers))
        if 0 < self.n_layers_per_step < n_prior_layers:
            return random.sample(indices, self.n_layers_per_step)
        return indices

    def layer_loss(self, layers: Sequence[Sequence[Tensor]], labels: Tensor | None) -> LossOutput:
        """The loss from per-layer embeddings.

        Args:
            layers: ``layers[l][c]`` is column ``c``'s ``(B, D)`` embedding at layer ``l`` (0: the embedding
                layer, as sentence-transformers counts layers); the last entry is the final layer.
            labels: The base loss's labels.

        Returns:
            The loss and statistics.
        """
        last = self.loss(layers[-1], labels)
        total = last.loss * self.last_layer_weight
        stats = {**last.stats, "last_layer_loss": last.loss.detach()}
        indices = self.layer_indices(len(layers) - 1)
        if not indices:
            return LossOutput(total, stats)
        if self.kl_temperature > 0:
            target = F.softmax(torch.cat(list(layers[-1])) / self.kl_temperature, dim=-1).detach()
        layer_losses, kl_divs = [], []
        for idx in indices:
            layer_loss = self.loss(layers[idx], labels).loss
            total = total + layer_loss / len(indices) * self.prior_layers_weight
            layer_losses.append(layer_loss.detach())
            if self.kl_temperature > 0:
                log_probs = F.log_softmax(torch.cat(list(layers[idx])) / self.kl_temperature, dim=-1)
                kl_div = F.kl_div(log_probs, target, reduction="batchmean")
                total = total + kl_div * self.kl_temperature * self.kl_div_weight
                kl_divs.append(kl_div.detach())
        stats["prior_layers_loss"] = torch.stack(layer_losses).mean()
        if kl_divs:
            stats["kl_div"] = torch.stack(kl_divs).mean()
        return LossOutput(total, stats)
