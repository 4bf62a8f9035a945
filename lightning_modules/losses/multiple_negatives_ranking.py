"""MultipleNegativesRankingLoss: InfoNCE with in-batch and hard negatives (sentence-transformers 6.2)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor

from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.distances import get_distance
from lightning_modules.distributed import all_gather_with_grad, is_distributed
from lightning_modules.losses.base import EmbeddingLoss, LossOutput

Direction = Literal["query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc"]
PartitionMode = Literal["joint", "per_direction"]
HardnessMode = Literal["in_batch_negatives", "hard_negatives", "all_negatives"]
RankingSimilarity = Literal["cosine_similarity", "dot"]

_DIRECTIONS = ("query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc")
_HARDNESS_MODES = ("in_batch_negatives", "hard_negatives", "all_negatives")


def _local_row_offset(batch_size: int, device: torch.device) -> int:
    """Index of this rank's first row in the gathered batch (0 without a process group)."""
    if not is_distributed():
        return 0
    sizes = all_gather_with_grad(torch.tensor([batch_size], device=device))
    return int(sizes[: dist.get_rank()].sum())


class MultipleNegativesRankingLoss(EmbeddingLoss):
    r"""In-batch negatives ranking loss (InfoNCE): each anchor ranks its positive above all other documents.

    For anchor :math:`q_i`, positive :math:`d_i` and candidate set :math:`C_i` (all positives and hard
    negatives of the batch, plus the terms of the optional extra ``directions``):

    .. math::
        \mathcal{L} = -\frac{1}{B}\sum_i \Big(s\,\mathrm{sim}(q_i, d_i)
            - \log \sum_{c \in C_i} e^{s\,\mathrm{sim}(q_i, c)}\Big)

    With ``partition_mode="per_direction"`` the log-partition is computed per direction and averaged.

    Args:
        scale: Multiplier of the similarities (``1 / temperature``); ``20.0`` is temperature ``0.05``.
        similarity_fct: ``cosine_similarity`` (default) or ``dot`` (then use a scale around 1).
        gather_across_devices: Gather anchors and documents from every rank (with gradients) so each rank
            scores its own anchors against the documents of the global batch.
        directions: Interaction terms in the partition: ``query_to_doc`` (required, holds the positive),
            ``query_to_query``, ``doc_to_query``, ``doc_to_doc`` (excluding documents of the same query).
        partition_mode: ``joint`` (one softmax over all directions) or ``per_direction`` (one softmax per
            direction, averaged; not allowed with ``query_to_query``/``doc_to_doc``).
        hardness_mode: Optional hardness weighting: add ``hardness_strength * stop_grad(sim)`` to the
            logits of ``in_batch_negatives``, ``hard_negatives`` or ``all_negatives``; ``None`` disables it.
        hardness_strength: The weighting strength (alpha); must be non-negative.

    Inputs:
        +-------------------------------------------------+--------+
        | Texts                                           | Labels |
        +=================================================+========+
        | (anchor, positive) pairs                        | none   |
        +-------------------------------------------------+--------+
        | (anchor, positive, negative) triplets           | none   |
        +-------------------------------------------------+--------+
        | (anchor, positive, negative_1, ..., negative_n) | none   |
        +-------------------------------------------------+--------+

    Requirements:
        Batches without duplicate texts (``BatchSampling.NO_DUPLICATES``), else a duplicate positive is
        scored as a negative.

    Relations:
        :class:`MultipleNegativesSymmetricRankingLoss` is this loss with ``directions=("query_to_doc",
        "doc_to_query")`` and ``partition_mode="per_direction"``; :class:`CachedMultipleNegativesRankingLoss`
        computes it with gradient caching for large batches.

    Statistics:
        ``accuracy`` (in-batch top-1 retrieval of the positive), ``positive_similarity`` (mean similarity of
        the positive pairs), ``hardest_negative_similarity`` (mean of each anchor's most similar negative).

    References:
        Henderson et al. 2017, Efficient Natural Language Response Suggestion for Smart Reply
        (https://arxiv.org/abs/1705.00652); van den Oord et al. 2018 (https://arxiv.org/abs/1807.03748).

    Example:
        ``loss: {class_path: lightning_modules.losses.multiple_negatives_ranking.MultipleNegativesRankingLoss,
        init_args: {scale: 20.0}}``
    """

    accepts: ClassVar[frozenset[BatchFormat]] = frozenset(
        {BatchFormat.PAIR, BatchFormat.TRIPLET, BatchFormat.MULTI_NEGATIVE}
    )
    sampling: ClassVar[BatchSampling] = BatchSampling.NO_DUPLICATES

    def __init__(
        self,
        scale: float = 20.0,
        similarity_fct: RankingSimilarity = "cosine_similarity",
        gather_across_devices: bool = False,
        directions: Sequence[Direction] = ("query_to_doc",),
        partition_mode: PartitionMode = "joint",
        hardness_mode: HardnessMode | None = None,
        hardness_strength: float = 0.0,
    ) -> None:
        super().__init__()
        if not scale > 0:
            raise ValueError(f"scale must be > 0, got {scale}")
        if similarity_fct not in ("cosine_similarity", "dot"):
            raise ValueError(f"similarity_fct must be 'cosine_similarity' or 'dot', got {similarity_fct!r}")
        directions = tuple(directions)
        if not directions:
            raise ValueError("directions must name at least one direction")
        unknown = set(directions) - set(_DIRECTIONS)
        if unknown:
            raise ValueError(f"unknown directions {sorted(unknown)}; expected some of {_DIRECTIONS}")
        if "query_to_doc" not in directions:
            raise ValueError("directions must include 'query_to_doc' (it holds the positive pair)")
        if partition_mode not in ("joint", "per_direction"):
            raise ValueError(f"partition_mode must be 'joint' or 'per_direction', got {partition_mode!r}")
        if partition_mode == "per_direction" and set(directions) & {"query_to_query", "doc_to_doc"}:
            raise ValueError(
                "partition_mode='per_direction' needs every direction to contain the positive pair; "
                "'query_to_query' and 'doc_to_doc' do not: use partition_mode='joint'"
            )
        if hardness_mode is not None and hardness_mode not in _HARDNESS_MODES:
            raise ValueError(f"hardness_mode must be None or one of {_HARDNESS_MODES}, got {hardness_mode!r}")
        if hardness_strength < 0.0:
            raise ValueError(f"hardness_strength must be >= 0, got {hardness_strength}")
        self.scale = scale
        self.similarity_fct = similarity_fct
        self.gather_across_devices = gather_across_devices
        self.directions = directions
        self.partition_mode = partition_mode
        self.hardness_mode = hardness_mode
        self.hardness_strength = hardness_strength
        self._similarity = get_distance(similarity_fct)

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """Rank each anchor's positive among all documents of the batch.

        Args:
            embeddings: ``[anchors, positives, negatives_1, ...]``, each ``(B, D)``.
            labels: Ignored (the positive is the in-batch diagonal).

        Returns:
            The loss and ranking statistics.
        """
        return self.ranking_loss(embeddings, self.scale)

    def ranking_loss(self, embeddings: Sequence[Tensor], scale: float | Tensor) -> LossOutput:
        """The loss with an explicit scale (a learnable one for ContrastiveTensionLossInBatchNegatives).

        Args:
            embeddings: ``[anchors, positives, negatives_1, ...]``, each ``(B, D)``.
            scale: Multiplier of the similarities.

        Returns:
            The loss and ranking statistics.
        """
        if len(embeddings) < 2:
            raise ValueError(f"{type(self).__name__} needs >= 2 embedding columns, got {len(embeddings)}")
        queries, docs = embeddings[0], list(embeddings[1:])
        batch_size = queries.shape[0]
        offset = 0
        if self.gather_across_devices:
            offset = _local_row_offset(batch_size, queries.device)
            queries = all_gather_with_grad(queries)
            docs = [all_gather_with_grad(d) for d in docs]
        world_batch_size = queries.shape[0]
        docs_all = torch.cat(docs, dim=0)
        local = torch.arange(offset, offset + batch_size, device=queries.device)
        rows = torch.arange(batch_size, device=queries.device)
        local_queries, local_docs = queries[local], docs[0][local]
        # Column j of the (B, world_batch * n_docs) matrices belongs to query j % world_batch.
        own_query = torch.zeros(batch_size, world_batch_size, dtype=torch.bool, device=queries.device)
        own_query[rows, local] = True
        own_docs = own_query.repeat(1, len(docs))

        sim = self._similarity.pairwise
        raw_query_to_doc = sim(local_queries, docs_all)
        matrices = {"query_to_doc": raw_query_to_doc}
        if "query_to_query" in self.directions:
            matrices["query_to_query"] = sim(local_queries, queries).masked_fill(own_query, -torch.inf)
        if "doc_to_query" in self.directions:
            matrices["doc_to_query"] = sim(queries, local_docs).T
        if "doc_to_doc" in self.directions:
            matrices["doc_to_doc"] = sim(docs_all, local_docs).T.masked_fill(own_docs, -torch.inf)

        logits = {name: m * scale for name, m in matrices.items()}
        if self.hardness_mode is not None and self.hardness_strength > 0.0:
            logits["query_to_doc"] = logits["query_to_doc"] + self._hardness_penalty(
                raw_query_to_doc, own_docs, world_batch_size
            )

        positive_scores = logits["query_to_doc"][rows, local]
        if self.partition_mode == "joint":
            log_z = torch.logsumexp(torch.cat(list(logits.values()), dim=1), dim=1)
        else:
            log_z = torch.stack([torch.logsumexp(m, dim=1) for m in logits.values()]).mean(0)
        loss = -(positive_scores - log_z).mean()
        return LossOutput(loss, self._stats(raw_query_to_doc.detach(), own_query, local))

    def _hardness_penalty(self, raw_query_to_doc: Tensor, own_docs: Tensor, world_batch_size: int) -> Tensor:
        """``alpha * stop_grad(sim)`` on the negatives ``hardness_mode`` selects (Lan et al. 2025, Eq. 5)."""
        penalty = self.hardness_strength * raw_query_to_doc.detach()
        if self.hardness_mode == "hard_negatives":
            keep = own_docs.clone()
            keep[:, :world_batch_size] = False
        elif self.hardness_mode == "in_batch_negatives":
            keep = ~own_docs
        else:  # all_negatives: everything but the positive column
            keep = torch.ones_like(own_docs)
            keep[:, :world_batch_size] = ~own_docs[:, :world_batch_size]
        return penalty * keep

    @staticmethod
    def _stats(query_to_doc: Tensor, own_query: Tensor, local: Tensor) -> dict[str, Tensor]:
        positive = query_to_doc.gather(1, local[:, None]).squeeze(1)
        stats = {
            "accuracy": (query_to_doc.argmax(dim=1) == local).float().mean(),
            "positive_similarity": positive.mean(),
        }
        if query_to_doc.shape[1] > 1:  # a batch of one pair without negatives has no negative
            is_positive = F.pad(own_query, (0, query_to_doc.shape[1] - own_query.shape[1]))
            negatives = query_to_doc.masked_fill(is_positive, -torch.inf)
            stats["hardest_negative_similarity"] = negatives.max(dim=1).values.mean()
        return stats
