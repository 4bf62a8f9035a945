"""Collective helpers that keep autograd intact, usable with or without an initialised process group."""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor


def is_distributed() -> bool:
    """Whether a process group with more than one rank is active."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _gather_rows(tensor: Tensor, sizes: list[int]) -> list[Tensor]:
    """Every rank's rows (without autograd); ranks may hold different numbers of rows."""
    # all_gather needs equal shapes: pad to the largest rank, trim afterwards.
    padded = tensor.new_zeros((max(sizes), *tensor.shape[1:]))
    padded[: tensor.shape[0]] = tensor
    gathered = [torch.empty_like(padded) for _ in sizes]
    dist.all_gather(gathered, padded)
    return [part[:size] for part, size in zip(gathered, sizes, strict=True)]


class _AllGatherWithGrad(torch.autograd.Function):
    """Forward: concatenate all ranks' rows. Backward: sum the gradient over ranks, keep the own rows."""

    @staticmethod
    def forward(ctx, tensor: Tensor, sizes: list[int]) -> Tensor:  # type: ignore[override]
        ctx.sizes = sizes
        return torch.cat(_gather_rows(tensor.detach(), sizes), dim=0)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:  # type: ignore[override]
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        rank = dist.get_rank()
        start = sum(ctx.sizes[:rank])
        return grad[start : start + ctx.sizes[rank]], None


def all_gather_with_grad(tensor: Tensor) -> Tensor:
    """Concatenate ``tensor`` from every rank along dimension 0, in rank order, keeping gradients.

    In the backward pass the gradient of the gathered tensor is summed over ranks and each rank keeps
    the slice of its own rows (as ``torch.distributed.nn.all_gather``), so every rank's loss reaches
    every rank's embeddings. With DDP's gradient averaging this gives the single-process gradient
    both for a loss that is the same global value on every rank and for a per-rank share of a mean
    (each rank averaging its own anchors). Ranks may hold different numbers of rows; trailing
    dimensions and dtype must agree. Tensors that do not require grad (labels) are simply gathered.
    Without an initialised process group (or with one rank) the input is returned unchanged.

    Args:
        tensor: A ``(N_rank, ...)`` tensor.

    Returns:
        The ``(sum of N_rank, ...)`` concatenation over all ranks.
    """
    if not is_distributed():
        return tensor
    rows = torch.tensor([tensor.shape[0]], device=tensor.device)
    all_rows = [torch.zeros_like(rows) for _ in range(dist.get_world_size())]
    dist.all_gather(all_rows, rows)
    sizes = [int(r.item()) for r in all_rows]
    if tensor.requires_grad:
        return _AllGatherWithGrad.apply(tensor, sizes)
    return torch.cat(_gather_rows(tensor, sizes), dim=0)
