"""WeightedSumLoss: several losses on the same batch embeddings, summed with weights (e.g. MNRL + 0.1 GOR)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from torch import Tensor, nn

from core.batch_formats import BatchFormat, BatchSampling, TokenizedBatch
from lightning_modules.losses.base import EmbeddingLoss, LossOutput
from lightning_modules.strategies.embedding_passes import EmbeddingPass, embedding_passes, require_embedding_based

if TYPE_CHECKING:
    from lightning_modules.encoders.hf_encoder import HFEncoder


def _part_names(losses: Sequence[EmbeddingLoss]) -> list[str]:
    """``MultipleNegativesRankingLoss`` -> ``multiple_negatives_ranking``; repeated classes get ``_2``, ``_3``..."""
    bases = [re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", type(loss).__name__.removesuffix("Loss")).lower() for loss in losses]
    names = []
    for i, base in enumerate(bases):
        count = bases[:i].count(base)
        names.append(base if bases.count(base) == 1 else f"{base}_{count + 1}")
    return names


class WeightedSumLoss(EmbeddingLoss):
    r"""Several losses on the same batch embeddings, summed with weights (e.g. MNRL + 0.1 x GOR).

    :math:`\mathcal{L} = \sum_k w_k \mathcal{L}_k`. The batch is embedded once and every part receives the
    same embeddings and labels, so "MNRL + 0.1 x GOR" (sentence-transformers' ``InfoNCEGORLoss`` example) is
    one config. The parts must accept a common
    batch format and agree on sampling: at most one sampling other than ``random`` among them (a ``random``
    loss trains on any batches); both are checked when the loss is built.

    Args:
        losses: The parts; each must be computed from the batch's embeddings (wrap the sum in
            ``GradientCachedLoss`` for gradient caching, rather than summing cached losses).
        weights: One weight per part (default all 1).

    Inputs:
        The batch formats every part accepts.

    Relations:
        sentence-transformers 6.2 sums the dict a loss returns (``GlobalOrthogonalRegularizationLoss``
        returns its two terms) or trains several losses on several datasets; this sums explicit parts.

    Statistics:
        ``<part>/loss`` (each part's unweighted value) and ``<part>/<statistic>`` for every statistic of
        each part, ``<part>`` being its class name in snake case without ``Loss`` (numbered if repeated).

    Example:
        ``loss: {class_path: lightning_modules.losses.weighted_sum.WeightedSumLoss, init_args: {losses:
        [{class_path: lightning_modules.losses.multiple_negatives_ranking.MultipleNegativesRankingLoss},
        {class_path: lightning_modules.losses.global_orthogonal_regularization.``
        ``GlobalOrthogonalRegularizationLoss}], weights: [1.0, 0.1]}}``
    """

    def __init__(self, losses: Sequence[EmbeddingLoss], weights: Sequence[float] | None = None) -> None:
        super().__init__()
        if not losses:
            raise ValueError("WeightedSumLoss needs at least one loss in losses")
        weights = [1.0] * len(losses) if weights is None else [float(w) for w in weights]
        if len(weights) != len(losses):
            raise ValueError(f"weights must have one weight per loss ({len(losses)}), got {len(weights)}")
        for loss in losses:
            require_embedding_based(loss, "WeightedSumLoss")
        common = frozenset.intersection(*(frozenset(loss.accepts) for loss in losses))
        if not common:
            accepted = "; ".join(
                f"{type(loss).__name__} accepts {', '.join(sorted(f.value for f in loss.accepts))}" for loss in losses
            )
            raise ValueError(f"WeightedSumLoss: its losses accept no common batch format ({accepted})")
        strict = {loss.sampling for loss in losses} - {BatchSampling.RANDOM}
        if len(strict) > 1:
            needs = ", ".join(f"{type(loss).__name__} needs {loss.sampling.value}" for loss in losses)
            raise ValueError(f"WeightedSumLoss: its losses need different batch sampling ({needs})")
        self.losses = nn.ModuleList(losses)
        self.weights = tuple(weights)
        self.part_names = tuple(_part_names(losses))
        self._accepts = common
        self._sampling = next(iter(strict), BatchSampling.RANDOM)

    @property
    def accepts(self) -> frozenset[BatchFormat]:  # type: ignore[override]
        """The batch formats every part accepts."""
        return self._accepts

    @property
    def sampling(self) -> BatchSampling:  # type: ignore[override]
        """The one non-random sampling of the parts, else ``random``."""
        return self._sampling

    def bind_encoder(self, encoder: HFEncoder) -> None:
        """Pass the encoder on to every part."""
        for loss in self.losses:
            loss.bind_encoder(encoder)

    def embedding_passes(self, encoder: HFEncoder, batch: TokenizedBatch) -> list[EmbeddingPass]:
        """The parts' forward passes, which must be the same for all of them (the batch is embedded once)."""
        first, *others = (embedding_passes(loss, encoder, batch) for loss in self.losses)
        for name, passes in zip(self.part_names[1:], others, strict=True):
            same = len(passes) == len(first) and all(
                p.encode is q.encode and p.features is q.features for p, q in zip(passes, first, strict=True)
            )
            if not same:
                raise ValueError(
                    f"WeightedSumLoss: {name} embeds the batch with other forward passes than {self.part_names[0]}; "
                    "only losses computed from the same embeddings can be summed"
                )
        return first

    def training_loss(self, encoder: HFEncoder, batch: TokenizedBatch) -> LossOutput:
        """Embed the batch once with the parts' forward passes, then apply :meth:`forward`."""
        return self([p.encode(p.features) for p in self.embedding_passes(encoder, batch)], batch.labels)

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """The weighted sum of the parts on the same embeddings and labels.

        Args:
            embeddings: One ``(B, D)`` tensor per text column.
            labels: The batch labels, given to every part.

        Returns:
            The sum and every part's value and statistics.
        """
        outputs = [loss(embeddings, labels) for loss in self.losses]
        total = self.weights[0] * outputs[0].loss
        for weight, out in zip(self.weights[1:], outputs[1:], strict=True):
            total = total + weight * out.loss

        def stats() -> dict[str, Tensor]:
            merged: dict[str, Tensor] = {}
            for name, out in zip(self.part_names, outputs, strict=True):
                merged[f"{name}/loss"] = out.loss.detach()
                merged.update({f"{name}/{key}": value for key, value in out.stats.items()})
            return merged

        return LossOutput(total, stats)
