"""A real two-process CPU DDP run: gathered MNRL (and GIST) equals the single-process loss on the concatenated batch.

In float64, so that the different summation order of two ranks and one process (~1e-15 relative) stays
far below ``assert_close``'s float64 tolerance (1e-7): the comparison can only fail on a real difference.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from lightning_modules.losses.base import EmbeddingLoss
from lightning_modules.losses.gist_embed import GISTEmbedLoss
from lightning_modules.losses.multiple_negatives_ranking import MultipleNegativesRankingLoss
from lightning_modules.losses.multiple_negatives_symmetric_ranking import (
    MultipleNegativesSymmetricRankingLoss,
)
from tests.lightning_modules.ddp import run_distributed

WORLD_SIZE = 2
LOCAL_BATCH = 4
N_COLUMNS = 3
LOSSES = {
    "mnrl": lambda gather: MultipleNegativesRankingLoss(gather_across_devices=gather),
    "gte": lambda gather: MultipleNegativesRankingLoss(
        gather_across_devices=gather,
        directions=("query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc"),
    ),
    "symmetric": lambda gather: MultipleNegativesSymmetricRankingLoss(gather_across_devices=gather),
    # As sentence-transformers, a gathering GIST contrasts each rank's anchors with its own anchors only, so
    # it equals the single-process loss without anchor contrasts (positives are contrasted globally).
    "gist": lambda gather: GISTEmbedLoss(temperature=0.1, contrast_anchors=False, gather_across_devices=gather),
}


def _inputs() -> list[Tensor]:
    g = torch.Generator().manual_seed(0)
    return [torch.randn(WORLD_SIZE * LOCAL_BATCH, 6, generator=g, dtype=torch.float64) for _ in range(N_COLUMNS)]


def _guide() -> Tensor:
    """Guide embeddings of the columns (labels; the ranking losses ignore them)."""
    g = torch.Generator().manual_seed(1)
    return torch.randn(WORLD_SIZE * LOCAL_BATCH, N_COLUMNS, 4, generator=g, dtype=torch.float64)


def _encoder() -> nn.Module:
    torch.manual_seed(0)
    return nn.Linear(6, 5).double()


def _loss_and_grads(
    encoder: nn.Module, loss: EmbeddingLoss, inputs: list[Tensor], labels: Tensor
) -> tuple[Tensor, list]:
    value = loss([encoder(x) for x in inputs], labels).loss
    value.backward()
    return value.detach(), [p.grad.detach().clone() for p in encoder.parameters()]


def _worker(rank: int, out_dir: str) -> None:
    rows = slice(rank * LOCAL_BATCH, (rank + 1) * LOCAL_BATCH)
    local, guide = [x[rows] for x in _inputs()], _guide()[rows]
    for name, make_loss in LOSSES.items():
        # DDP averages the parameter gradients over ranks.
        encoder = DistributedDataParallel(_encoder())
        torch.save(_loss_and_grads(encoder, make_loss(True), local, guide), Path(out_dir) / f"{name}-{rank}.pt")
        # Retire each DDP wrapper on every rank before the next one starts: gloo aborts the process if a
        # reducer is torn down while its peer still talks to it.
        dist.barrier()
        del encoder


@pytest.fixture(scope="module")
def ddp_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One spawn for all losses: process start-up dominates the run time."""
    out_dir = tmp_path_factory.mktemp("ddp")
    run_distributed(_worker, WORLD_SIZE, str(out_dir))
    return out_dir


@pytest.mark.parametrize("loss_name", sorted(LOSSES))
def test_gathered_loss_matches_single_process(loss_name, ddp_results):
    expected_loss, expected_grads = _loss_and_grads(_encoder(), LOSSES[loss_name](False), _inputs(), _guide())
    results = [torch.load(ddp_results / f"{loss_name}-{rank}.pt") for rank in range(WORLD_SIZE)]
    # Each rank averages over its own anchors: the mean over ranks is the global mean.
    torch.testing.assert_close(torch.stack([loss for loss, _ in results]).mean(), expected_loss)
    for _, grads in results:
        for grad, expected in zip(grads, expected_grads, strict=True):
            torch.testing.assert_close(grad, expected)
