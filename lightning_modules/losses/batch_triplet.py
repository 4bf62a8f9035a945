"""Shared body of the batch triplet losses: gather, measure, mine, gather distances, reduce, describe."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.distances import MetricDistanceName
from lightning_modules.distributed import all_gather_with_grad
from lightning_modules.losses.base import EmbeddingLoss, LossOutput, Statistics
from lightning_modules.losses.input_checks import (
    check_columns,
    check_labels,
    check_non_negative,
    get_metric_distance,
)
from lightning_modules.losses.triplet_statistics import triplet_statistics
from lightning_modules.miners import TripletMiner, count_valid_triplets


class BatchTripletLoss(EmbeddingLoss):
    """Base class of the losses that mine triplets inside a labelled batch.

    The pairwise distance matrix is computed once (in float32 at least, outside autocast). By default
    (:meth:`loss_and_statistics`) a :class:`~lightning_modules.miners.TripletMiner` picks
    ``(anchor, positive, negative)`` indices under ``no_grad`` and the loss is a reduction of ``d(a, p)``
    and ``d(a, n)`` at those indices, so gradients reach exactly the mined distances. Subclasses choose
    the miner and override :meth:`reduce` (default: mean hinge ``relu(d(a, p) - d(a, n) + margin)``), or
    override :meth:`loss_and_statistics` altogether (batch-all, which never lists its triplets).

    A batch without any valid triplet (one class, or no class with two examples) gives a zero loss
    that still belongs to the graph, with zero gradients.

    Args:
        miner: Selects the triplets; ``None`` for subclasses that override :meth:`loss_and_statistics`.
        distance_metric: ``euclidean``, ``squared_euclidean``, ``cosine`` (1 - cosine similarity) or
            ``manhattan``.
        margin: Hinge margin (>= 0).
        gather_across_devices: All-gather embeddings and labels across ranks before mining, so that
            negatives come from the global batch; gradients flow to each rank's own embeddings. A
            no-op without an initialised process group.
    """

    accepts: ClassVar[frozenset[BatchFormat]] = frozenset({BatchFormat.LABELED})
    sampling: ClassVar[BatchSampling] = BatchSampling.PK

    def __init__(
        self,
        miner: TripletMiner | None,
        distance_metric: MetricDistanceName = "euclidean",
        margin: float = 5.0,
        gather_across_devices: bool = False,
    ) -> None:
        super().__init__()
        distance = get_metric_distance(distance_metric)
        check_non_negative("margin", margin)
        self.miner = miner
        self.distance = distance
        self.distance_metric = distance_metric
        self.margin = margin
        self.gather_across_devices = gather_across_devices

    def reduce(self, pos_distances: Tensor, neg_distances: Tensor) -> Tensor:
        """Turn the mined ``(T,)`` distances (``T >= 1``) into the scalar loss."""
        return F.relu(pos_distances - neg_distances + self.margin).mean()

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """Mine triplets in the (optionally gathered) batch and reduce their distances."""
        check_columns(type(self).__name__, embeddings, 1)
        labels = check_labels(type(self).__name__, labels, embeddings[0].shape[0])
        x = embeddings[0]
        if self.gather_across_devices:
            x, labels = all_gather_with_grad(x), all_gather_with_grad(labels)
        with torch.autocast(device_type=x.device.type, enabled=False):
            if x.dtype in (torch.float16, torch.bfloat16):
                x = x.float()
            distances = self.distance.pairwise(x, x)
        loss, statistics = self.loss_and_statistics(distances, labels)
        valid = count_valid_triplets(labels).float()
        if valid == 0:
            # A constant message: Python's default filter then shows it once, not once per batch.
            warnings.warn(
                f"{type(self).__name__}: a batch holds no valid triplet (it needs two classes, one of them with "
                "two examples); its loss is 0. P x K batches (the 'pk' sampler) always hold valid triplets.",
                stacklevel=1,
            )
        return LossOutput(loss, lambda: {**statistics(), "valid_triplets": valid})

    def loss_and_statistics(self, distances: Tensor, labels: Tensor) -> tuple[Tensor, Callable[[], Statistics]]:
        """Mine triplets, reduce their distances and describe them.

        Args:
            distances: ``(B, B)`` differentiable pairwise distances of the (gathered) batch.
            labels: ``(B,)`` class ids.

        Returns:
            The loss (0, still in the graph, when nothing is mined) and a function computing its
            statistics, including ``mined_triplets`` (called only when they are logged).
        """
        assert self.miner is not None, f"{type(self).__name__} must override loss_and_statistics"
        anchors, positives, negatives = self.miner(distances, labels)
        pos_distances, neg_distances = distances[anchors, positives], distances[anchors, negatives]
        if anchors.numel() == 0:
            loss = (distances * 0.0).sum()
        else:
            loss = self.reduce(pos_distances, neg_distances)
        mined = torch.tensor(float(anchors.numel()), device=distances.device)
        return loss, lambda: {**triplet_statistics(pos_distances, neg_distances, self.margin), "mined_triplets": mined}

    def extra_repr(self) -> str:
        """Constructor arguments shown by ``repr``."""
        return (
            f"distance_metric={self.distance_metric!r}, margin={self.margin}, "
            f"gather_across_devices={self.gather_across_devices}"
        )
