"""One loss step of MetricLearningLoss, or of the same pytorch-metric-learning loss (and miner) called directly.

Shared by ``loss_kernels.py`` like ``st_loss_steps.py``: ``STEPS[row](impl, batch_size, n_labels, device)``
returns a function running one step (value + backward) on fixed random 384-d embeddings of ``n_labels`` equal
classes; ``impl`` is ``"ours"`` (the adapter) or anything else (PML directly, the reference). The difference
between the two is the adapter's overhead: checks, record reading, index tuples.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from st_loss_steps import DIM, Step, _inputs, _step


def _multi_similarity(n_labels: int) -> tuple[Any, Any]:
    from pytorch_metric_learning import losses

    return losses.MultiSimilarityLoss(), None


def _triplet_batch_hard(n_labels: int) -> tuple[Any, Any]:
    from pytorch_metric_learning import losses, miners

    return losses.TripletMarginLoss(margin=0.2), miners.BatchHardMiner()


def _arcface(n_labels: int) -> tuple[Any, Any]:
    from pytorch_metric_learning import losses

    return losses.ArcFaceLoss(n_labels, DIM), None


def pml_step(make: Callable[[int], tuple[Any, Any]]) -> Callable[[str, int, int, str], Step]:
    """The PML loss and miner ``make(n_labels)`` builds, through the adapter or called directly."""

    def build(impl: str, batch_size: int, n_labels: int, device: str) -> Step:
        g = torch.Generator().manual_seed(1)
        labels = (torch.arange(batch_size) % n_labels)[torch.randperm(batch_size, generator=g)].to(device)
        torch.manual_seed(0)  # the same class weights for both implementations
        loss, miner = make(n_labels)
        loss.to(device)
        if impl == "ours":
            from lightning_modules.losses.metric_learning import MetricLearningLoss

            adapter = MetricLearningLoss(loss, miner)
            return _step(lambda x: adapter(x, labels).loss, _inputs(batch_size, 1, device), device)

        def direct(x: list[torch.Tensor]) -> torch.Tensor:
            return loss(x[0], labels, miner(x[0], labels) if miner is not None else None)

        return _step(direct, _inputs(batch_size, 1, device), device)

    return build


STEPS: dict[str, Callable[[str, int, int, str], Step]] = {
    "PML MultiSimilarityLoss": pml_step(_multi_similarity),
    "PML TripletMarginLoss+BatchHardMiner": pml_step(_triplet_batch_hard),
    "PML ArcFaceLoss": pml_step(_arcface),
}
