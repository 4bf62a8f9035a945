"""MultipleNegativesSymmetricRankingLoss: InfoNCE in both directions (sentence-transformers 6.2)."""

from __future__ import annotations

from lightning_modules.losses.multiple_negatives_ranking import (
    MultipleNegativesRankingLoss,
    RankingSimilarity,
)


class MultipleNegativesSymmetricRankingLoss(MultipleNegativesRankingLoss):
    r"""Anchors must retrieve their positive, and positives must retrieve their anchor.

    The mean of a forward (anchor to all documents) and a backward (positive to all anchors) InfoNCE term,
    each with its own softmax:

    .. math::
        \mathcal{L} = -\frac{1}{B}\sum_i \Big(s\,\mathrm{sim}(q_i, d_i) - \tfrac{1}{2}\big(
            \log \sum_{c} e^{s\,\mathrm{sim}(q_i, c)} + \log \sum_{j} e^{s\,\mathrm{sim}(d_i, q_j)}\big)\Big)

    Exactly :class:`MultipleNegativesRankingLoss` with ``directions=("query_to_doc", "doc_to_query")`` and
    ``partition_mode="per_direction"``, as in sentence-transformers 6.2 (hard negatives, if given, join the
    forward term's candidates).

    Args:
        scale: Multiplier of the similarities (``1 / temperature``).
        similarity_fct: ``cosine_similarity`` (default) or ``dot``.
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
        Batches without duplicate texts (``BatchSampling.NO_DUPLICATES``).

    Relations:
        Like :class:`MultipleNegativesRankingLoss`, with the additional backward term.

    Statistics:
        Those of :class:`MultipleNegativesRankingLoss` (forward direction).

    Example:
        ``loss: {class_path: lightning_modules.losses.multiple_negatives_symmetric_ranking.``
        ``MultipleNegativesSymmetricRankingLoss, init_args: {scale: 20.0}}``
    """

    def __init__(
        self,
        scale: float = 20.0,
        similarity_fct: RankingSimilarity = "cosine_similarity",
        gather_across_devices: bool = False,
    ) -> None:
        super().__init__(
            scale=scale,
            similarity_fct=similarity_fct,
            gather_across_devices=gather_across_devices,
            directions=("query_to_doc", "doc_to_query"),
            partition_mode="per_direction",
        )
