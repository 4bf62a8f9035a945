"""Two-process CPU DDP: MetricLearningLoss with gather_across_devices equals single-process training.

Loss value, encoder gradients and the gradients of the loss's own parameters (ArcFace's class weights)
on every rank equal those of one process on the concatenated batch, for labelled batches (with and
without a miner, which then mines the global batch) and for pair batches (structure pairs of the
global batch). In float64, so that the different summation order of two ranks and one process stays far
below ``assert_close``'s float64 tolerance, and a mined argmin cannot flip on a float32 tie.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
import torch.distributed as dist
from pytorch_metric_learning import losses, miners
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from lightning_modules.losses.metric_learning import MetricLearningLoss
from tests.lightning_modules.ddp import run_distributed

WORLD_SIZE = 2
LOCAL_BATCH = 6
IN, OUT = 6, 4
CASES: dict[str, tuple[Callable[[bool], MetricLearningLoss], int]] = {  # name -> (loss, text columns)
    "multi_similarity": (
        lambda gather: MetricLearningLoss(losses.MultiSimilarityLoss(), gather_across_devices=gather),
        1,
    ),
    "triplet_batch_hard": (
        lambda gather: MetricLearningLoss(
            losses.TripletMarginLoss(margin=0.2), miners.BatchHardMiner(), gather_across_devices=gather
        ),
        1,
    ),
    "arcface": (lambda gather: MetricLearningLoss(losses.ArcFaceLoss(3, OUT), gather_across_devices=gather), 1),
    "ntxent_pairs": (lambda gather: MetricLearningLoss(losses.NTXentLoss(), gather_across_devices=gather), 2),
}


class _Model(nn.Module):
    """Encoder and loss in one module, as in the LightningModule: DDP averages both gradients."""

    def __init__(self, loss: MetricLearningLoss) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.encoder, self.loss = nn.Linear(IN, OUT), loss
        torch.manual_seed(1)
        for p in self.loss.parameters():  # the same class weights in every process
            nn.init.normal_(p)
        self.double()

    def forward(self, columns: list[Tensor], labels: Tensor | None) -> Tensor:
        return self.loss([self.encoder(x) for x in columns], labels).loss


def _inputs(columns: int) -> tuple[list[Tensor], Tensor | None]:
    g = torch.Generator().manual_seed(0)
    x = [torch.randn(WORLD_SIZE * LOCAL_BATCH, IN, generator=g, dtype=torch.float64) for _ in range(columns)]
    # Classes straddle the ranks, so pairs, mining and class weights need the other rank's rows.
    return x, (torch.arange(WORLD_SIZE * LOCAL_BATCH) % 3 if columns == 1 else None)


def _loss_and_grads(model: nn.Module, columns: list[Tensor], labels: Tensor | None) -> tuple:
    value = model(columns, labels)
    value.backward()
    return value.detach(), [p.grad.detach().clone() for p in model.parameters()]


def _worker(rank: int, out_dir: str) -> None:
    rows = slice(rank * LOCAL_BATCH, (rank + 1) * LOCAL_BATCH)
    for name, (make, n_columns) in CASES.items():
        columns, labels = _inputs(n_columns)
        model = DistributedDataParallel(_Model(make(True)))
        local = ([x[rows] for x in columns], None if labels is None else labels[rows])
        torch.save(_loss_and_grads(model, *local), Path(out_dir) / f"{name}-{rank}.pt")
        dist.barrier()  # retire each DDP wrapper on every rank before the next one starts
        del model


def test_gathered_loss_matches_single_process(tmp_path: Path) -> None:
    run_distributed(_worker, WORLD_SIZE, str(tmp_path))
    for name, (make, n_columns) in CASES.items():
        expected_loss, expected_grads = _loss_and_grads(_Model(make(False)), *_inputs(n_columns))
        for rank in range(WORLD_SIZE):
            loss, grads = torch.load(tmp_path / f"{name}-{rank}.pt")
            torch.testing.assert_close(loss, expected_loss, msg=f"{name}, rank {rank}")
            assert len(grads) == len(expected_grads)
            for grad, expected in zip(grads, expected_grads, strict=True):
                torch.testing.assert_close(grad, expected, msg=f"{name}, rank {rank}")
