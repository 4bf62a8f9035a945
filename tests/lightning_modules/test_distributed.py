"""all_gather_with_grad: identity without a process group; a real 2-process gather with uneven sizes."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.distributed as dist

from lightning_modules.distributed import all_gather_with_grad
from tests.lightning_modules.ddp import run_distributed

SIZES = (3, 2)  # uneven on purpose


def _rows(rank: int) -> torch.Tensor:
    return torch.arange(SIZES[rank] * 2, dtype=torch.float64).reshape(-1, 2) + 100 * rank


def test_identity_without_process_group():
    x = torch.randn(3, 2, requires_grad=True)
    assert all_gather_with_grad(x) is x


def _worker(rank: int, out_dir: str) -> None:
    local = _rows(rank).requires_grad_(True)
    gathered = all_gather_with_grad(local)
    labels = all_gather_with_grad(torch.full((SIZES[rank],), rank))
    # Rank-dependent weights: the backward must sum every rank's contribution to each rank's rows.
    weights = torch.arange(gathered.numel(), dtype=torch.float64).reshape(gathered.shape) * (rank + 1)
    (gathered * weights).sum().backward()
    out = {"gathered": gathered.detach(), "labels": labels, "grad": local.grad}
    torch.save(out, Path(out_dir) / f"{rank}.pt")
    assert dist.get_world_size() == len(SIZES)


def test_gather_concatenates_uneven_ranks_and_sums_gradients(tmp_path):
    run_distributed(_worker, len(SIZES), str(tmp_path))
    expected = torch.cat([_rows(r) for r in range(len(SIZES))])
    base = torch.arange(expected.numel(), dtype=torch.float64).reshape(expected.shape)
    summed = base * sum(r + 1 for r in range(len(SIZES)))
    start = 0
    for rank, size in enumerate(SIZES):
        out = torch.load(Path(tmp_path) / f"{rank}.pt")
        torch.testing.assert_close(out["gathered"], expected)
        assert out["labels"].tolist() == [r for r, n in enumerate(SIZES) for _ in range(n)]
        torch.testing.assert_close(out["grad"], summed[start : start + size])
        start += size
