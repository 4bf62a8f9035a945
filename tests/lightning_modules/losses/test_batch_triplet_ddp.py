"""Two-process CPU DDP: batch triplet losses with gather_across_devices equal single-process training.

In float64, so that the different summation order of two ranks and one process (~1e-15 relative) stays
far below ``assert_close``'s float64 tolerance (1e-7), and mined argmins cannot flip on a float32 tie.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from lightning_modules.losses.batch_all_triplet import BatchAllTripletLoss
from lightning_modules.losses.batch_hard_soft_margin_triplet import BatchHardSoftMarginTripletLoss
from lightning_modules.losses.batch_hard_triplet import BatchHardTripletLoss
from lightning_modules.losses.batch_semi_hard_triplet import BatchSemiHardTripletLoss
from lightning_modules.losses.batch_triplet import BatchTripletLoss
from tests.lightning_modules.ddp import run_distributed

WORLD_SIZE = 2
LOCAL_BATCH = 6
LOSSES = {
    "all": lambda gather: BatchAllTripletLoss(margin=1.0, gather_across_devices=gather),
    "hard": lambda gather: BatchHardTripletLoss(margin=1.0, gather_across_devices=gather),
    "semi_hard": lambda gather: BatchSemiHardTripletLoss(margin=1.0, gather_across_devices=gather),
    "soft_margin": lambda gather: BatchHardSoftMarginTripletLoss(gather_across_devices=gather),
}


def _inputs() -> tuple[Tensor, Tensor]:
    g = torch.Generator().manual_seed(0)
    # Classes straddle the ranks, so mining needs the other rank's examples.
    labels = torch.arange(WORLD_SIZE * LOCAL_BATCH) % 3
    return torch.randn(WORLD_SIZE * LOCAL_BATCH, 6, generator=g, dtype=torch.float64), labels


def _encoder() -> nn.Module:
    torch.manual_seed(0)
    return nn.Linear(6, 4).double()


def _loss_and_grads(encoder: nn.Module, loss: BatchTripletLoss, x: Tensor, labels: Tensor) -> tuple:
    value = loss([encoder(x)], labels).loss
    value.backward()
    return value.detach(), [p.grad.detach().clone() for p in encoder.parameters()]


def _worker(rank: int, out_dir: str) -> None:
    x, labels = _inputs()
    rows = slice(rank * LOCAL_BATCH, (rank + 1) * LOCAL_BATCH)
    results = {
        name: _loss_and_grads(DistributedDataParallel(_encoder()), make(True), x[rows], labels[rows])
        for name, make in LOSSES.items()
    }
    torch.save(results, Path(out_dir) / f"{rank}.pt")


def test_gathered_loss_matches_single_process(tmp_path):
    run_distributed(_worker, WORLD_SIZE, str(tmp_path))
    x, labels = _inputs()
    for rank in range(WORLD_SIZE):
        results = torch.load(Path(tmp_path) / f"{rank}.pt")
        for name, make in LOSSES.items():
            expected_loss, expected_grads = _loss_and_grads(_encoder(), make(False), x, labels)
            loss, grads = results[name]
            # Every rank computes the loss of the global batch.
            torch.testing.assert_close(loss, expected_loss)
            for grad, expected in zip(grads, expected_grads, strict=True):
                torch.testing.assert_close(grad, expected)
