"""GISTEmbedLoss: in-batch negatives ranking whose false negatives a guide model filters out (ST 6.2)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.distances import get_distance
from lightning_modules.distributed import all_gather_with_grad
from lightning_modules.losses.base import EmbeddingLoss, LossOutput
from lightning_modules.losses.multiple_negatives_ranking import _local_row_offset

MarginStrategy = Literal["absolute", "relative"]


class GISTEmbedLoss(EmbeddingLoss):
    r"""GISTEmbed: in-batch negatives ranking whose false negatives are filtered out by a guide model.

    Like :class:`~lightning_modules.losses.multiple_negatives_ranking.MultipleNegativesRankingLoss` with
    cosine similarities divided by ``temperature``, but every candidate :math:`c` of anchor :math:`q_i` that
    the *guide* finds at least about as similar to :math:`q_i` as its positive is removed from the softmax:

    .. math::
        \text{drop } c \iff g(q_i, c) > g(q_i, d_i) - m_i, \qquad
        m_i = \begin{cases} \text{margin} & \text{absolute} \\
        |g(q_i, d_i)| \cdot \text{margin} & \text{relative} \end{cases}

    with :math:`g` the guide's cosine similarity (the positive itself is never dropped). The candidates are
    all positives and negatives of the batch plus, with ``contrast_anchors``/``contrast_positives``, the
    other anchors (for each anchor) and the other positives (for each positive), as in the paper.

    The guide's embeddings are the batch's labels: ``distill: guide`` on the DataModule embeds every column
    of the training rows once with its injected ``teacher`` (cached on disk), so the guide never runs during
    training and gets no gradient, as in sentence-transformers 6.2 (which runs it under ``no_grad`` each
    step). The guide reads the raw texts with its own tokenizer, so sentence-transformers' re-tokenisation
    for a guide with another vocabulary is not needed. Unlike sentence-transformers' ``GISTEmbedLoss``
    (pairs or triplets only), any number of negative columns is accepted, as in ``CachedGISTEmbedLoss``.

    Args:
        temperature: Divisor of the cosine similarities (``1 / scale`` of MultipleNegativesRankingLoss).
        margin_strategy: ``absolute`` or ``relative`` false-negative threshold, see above.
        margin: The margin; 0 with ``absolute`` drops only candidates the guide ranks above the positive.
        contrast_anchors: Also contrast each anchor with the other anchors.
        contrast_positives: Also contrast each positive with the other positives.
        gather_across_devices: Gather positives and negatives (and their guide embeddings) from every rank,
            with gradients, so each rank scores its own anchors against the global batch.

    Inputs:
        +------------------------------------------------------------+------------------------------------+
        | Texts                                                      | Labels                             |
        +============================================================+====================================+
        | guided (anchor, positive[, negative_1, ..., negative_n])   | ``(B, columns, D)`` guide          |
        |                                                            | embeddings (``distill: guide``)    |
        +------------------------------------------------------------+------------------------------------+

    Requirements:
        Batches without duplicate texts (``BatchSampling.NO_DUPLICATES``).

    Relations:
        :class:`MultipleNegativesRankingLoss` without the guide's filter;
        :class:`~lightning_modules.losses.cached_gist_embed.CachedGISTEmbedLoss` is this loss with gradient
        caching.

    Statistics:
        ``accuracy`` (in-batch top-1 retrieval of the positive among the kept candidates),
        ``positive_similarity``, ``false_negative_fraction`` (fraction of the anchors' positive and negative
        candidates, own positive excluded, dropped by the guide).

    References:
        Solatorio 2024, GISTEmbed: Guided In-sample Selection of Training Negatives for Text Embedding
        Fine-tuning (https://arxiv.org/abs/2402.16829).

    Example:
        ``loss: {class_path: lightning_modules.losses.gist_embed.GISTEmbedLoss, init_args: {temperature: 0.01}}``
        with ``data: {init_args: {distill: guide, teacher: {class_path:
        lightning_modules.encoders.teacher_encoder.TeacherEncoder}}}``
    """

    accepts: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.GUIDED})
    sampling: ClassVar[BatchSampling] = BatchSampling.NO_DUPLICATES

    def __init__(
        self,
        temperature: float = 0.01,
        margin_strategy: MarginStrategy = "absolute",
        margin: float = 0.0,
        contrast_anchors: bool = True,
        contrast_positives: bool = True,
        gather_across_devices: bool = False,
    ) -> None:
        super().__init__()
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if margin_strategy not in ("absolute", "relative"):
            raise ValueError(f"margin_strategy must be 'absolute' or 'relative', got {margin_strategy!r}")
        self.temperature = temperature
        self.margin_strategy = margin_strategy
        self.margin = margin
        self.contrast_anchors = contrast_anchors
        self.contrast_positives = contrast_positives
        self.gather_across_devices = gather_across_devices
        self._cosine = get_distance("cosine_similarity")

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """Rank each anchor's positive among the candidates the guide does not flag as false negatives.

        Args:
            embeddings: ``[anchors, positives, negatives_1, ...]``, each ``(B, D)``.
            labels: ``(B, len(embeddings), D_guide)`` guide embeddings of the same columns.

        Returns:
            The loss and ranking statistics.
        """
        name = type(self).__name__
        if len(embeddings) < 2:
            raise ValueError(f"{name} expects at least 2 embedding columns (anchor, positive), got {len(embeddings)}")
        if labels is None or labels.dim() != 3 or labels.shape[:2] != (embeddings[0].shape[0], len(embeddings)):
            shape = None if labels is None else tuple(labels.shape)
            raise ValueError(
                f"{name} expects guide embeddings of shape (batch_size, columns, guide_dim) = "
                f"({embeddings[0].shape[0]}, {len(embeddings)}, ...) as labels (data option distill: guide), "
                f"got {shape}"
            )
        guide = [g.to(embeddings[0].dtype) for g in labels.detach().unbind(1)]
        anchors, anchor_guide = embeddings[0], guide[0]
        docs, doc_guides = list(embeddings[1:]), guide[1:]
        batch_size = anchors.shape[0]
        offset = 0
        if self.gather_across_devices:
            offset = _local_row_offset(batch_size, anchors.device)
            docs = [all_gather_with_grad(d) for d in docs]
            doc_guides = [all_gather_with_grad(g) for g in doc_guides]
        rows = torch.arange(batch_size, device=anchors.device)
        own = rows + offset
        sim = self._cosine.pairwise
        guided_positive = sim(anchor_guide, doc_guides[0])[rows, own]
        margin = self.margin if self.margin_strategy == "absolute" else guided_positive.abs() * self.margin
        threshold = (guided_positive - margin)[:, None]

        # (student similarities, guide similarities) of every candidate block, in sentence-transformers' order.
        blocks = [(sim(anchors, docs[0]), sim(anchor_guide, doc_guides[0]))]
        if self.contrast_anchors:
            blocks.append((sim(anchors, anchors), sim(anchor_guide, anchor_guide)))
        if self.contrast_positives:
            blocks.append((sim(docs[0][own], docs[0]), sim(doc_guides[0][own], doc_guides[0])))
        blocks += [(sim(anchors, d), sim(anchor_guide, g)) for d, g in zip(docs[1:], doc_guides[1:], strict=True)]
        dropped = [guided > threshold for _, guided in blocks]
        dropped[0][rows, own] = False  # the positive is never a false negative
        scores = torch.cat([s.masked_fill(d, -torch.inf) for (s, _), d in zip(blocks, dropped, strict=True)], dim=1)
        loss = F.cross_entropy(scores / self.temperature, own)
        return LossOutput(loss, lambda: self._stats(scores.detach(), blocks, dropped, own))

    def _stats(
        self, scores: Tensor, blocks: list[tuple[Tensor, Tensor]], dropped: list[Tensor], own: Tensor
    ) -> dict[str, Tensor]:
        rows = torch.arange(own.shape[0], device=own.device)
        # The anchor-to-document blocks: the positives' block, then one per negative column after the contrasts.
        first_negative = 1 + self.contrast_anchors + self.contrast_positives
        document_blocks = [0, *range(first_negative, len(blocks))]
        candidates = torch.cat([dropped[i] for i in document_blocks], dim=1)
        not_positive = torch.ones_like(candidates)
        not_positive[rows, own] = False
        return {
            "accuracy": (scores.argmax(dim=1) == own).float().mean(),
            "positive_similarity": blocks[0][0].detach()[rows, own].mean(),
            "false_negative_fraction": (candidates & not_positive).sum() / not_positive.sum().clamp(min=1),
        }
