"""Gradient caching (GradCache, Gao et al. 2021): in-batch losses over large batches in bounded memory.

As sentence-transformers' cached losses:

1. embed every mini-batch without a graph, recording the RNG state before each forward pass;
2. compute the loss on the detached full-batch embeddings (the loss's own small graph is kept);
3. in the backward pass, a hook on each column's detached embeddings receives the loss's gradient
   w.r.t. them, re-embeds each mini-batch with a graph under the recorded RNG state (so dropout draws
   the same masks) and autocast state, and back-propagates that gradient into the encoder.

Only one mini-batch of encoder activations is alive at a time. Because step 3 hangs off the returned
loss's own backward, the strategy works under Lightning's automatic optimisation, gradient accumulation
and loss scaling (whatever gradient reaches the loss reaches every replayed mini-batch), and parameters
of the loss itself (a learnable scale, a classifier) get their gradients as usual. Unlike
sentence-transformers, the loss is not back-propagated chunk by chunk during the forward pass: its graph
(e.g. the ``B x B`` similarity matrix) lives until the backward pass, which is negligible next to encoder
activations for batches up to tens of thousands.

Limitation: under DistributedDataParallel every replayed mini-batch's backward would trigger DDP's
gradient synchronisation, which expects one backward per step; sentence-transformers wraps the replay in
``no_sync`` for this. Gradient caching is therefore single-process for now (``gather_across_devices``
losses work with it only without DDP's gradient hooks, e.g. under plain ``torch.distributed``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import torch
from torch import Tensor
from torch.utils.checkpoint import get_device_states, set_device_states

from datamodules.batch_formats import TokenizedBatch
from lightning_modules.losses.base import EmbeddingLoss, LossOutput
from lightning_modules.strategies.embedding_passes import EmbeddingPass, Features, embedding_passes

if TYPE_CHECKING:
    from lightning_modules.encoders.hf_encoder import HFEncoder


class RandContext:
    """Snapshot of the CPU and CUDA RNG states; entering it replays them and restores the outer state on exit.

    Args:
        tensors: Tensors of the forward pass, whose CUDA devices get their RNG state recorded.
    """

    def __init__(self, *tensors: Tensor) -> None:
        self.cpu_state = torch.get_rng_state()
        self.devices, self.device_states = get_device_states(*tensors)
        self._fork: AbstractContextManager | None = None

    def __enter__(self) -> None:
        self._fork = torch.random.fork_rng(devices=self.devices, enabled=True)
        self._fork.__enter__()
        torch.set_rng_state(self.cpu_state)
        set_device_states(self.devices, self.device_states)

    def __exit__(self, *exc: object) -> None:
        assert self._fork is not None
        self._fork.__exit__(*exc)
        self._fork = None


@dataclass(frozen=True)
class _AutocastState:
    """The autocast setting of the first forward pass, re-entered for the replay (which runs in backward)."""

    device_type: str
    enabled: bool
    dtype: torch.dtype

    @classmethod
    def capture(cls, device_type: str) -> _AutocastState:
        return cls(device_type, torch.is_autocast_enabled(device_type), torch.get_autocast_dtype(device_type))

    def context(self) -> torch.autocast:
        return torch.autocast(self.device_type, dtype=self.dtype, enabled=self.enabled)


def _rows(features: Features) -> int:
    return int(next(iter(features.values())).shape[0])


def split_features(features: Features, mini_batch_size: int) -> list[Features]:
    """Slice tokenizer features into consecutive mini-batches along the batch dimension."""
    size = _rows(features)
    return [{k: v[i : i + mini_batch_size] for k, v in features.items()} for i in range(0, size, mini_batch_size)]


class GradientCache:
    """Computes an in-batch loss with gradient caching.

    Args:
        mini_batch_size: Sequences per forward pass; bounds activation memory independently of the batch.
    """

    def __init__(self, mini_batch_size: int) -> None:
        if mini_batch_size < 1:
            raise ValueError(f"mini_batch_size must be >= 1, got {mini_batch_size}")
        self.mini_batch_size = mini_batch_size

    def __call__(self, loss: EmbeddingLoss, encoder: HFEncoder, batch: TokenizedBatch) -> LossOutput:
        """Gradient-cached equivalent of ``loss.training_loss(encoder, batch)`` for a pure in-batch loss.

        Args:
            loss: Computes the loss from full-batch embeddings (its ``forward``).
            encoder: The model being trained.
            batch: The collated batch.

        Returns:
            The loss (its backward re-embeds the mini-batches) and the loss's statistics. Call
            ``backward()`` on it: ``torch.autograd.grad`` w.r.t. encoder parameters cannot see the replay.
        """
        return self.run(embedding_passes(loss, encoder, batch), lambda embeddings: loss(embeddings, batch.labels))

    def run(self, passes: Sequence[EmbeddingPass], compute_loss: Callable[[list[Tensor]], LossOutput]) -> LossOutput:
        """Embed ``passes`` in mini-batches and compute ``compute_loss`` with cached gradients.

        Args:
            passes: The forward passes, one per embedding column the loss takes.
            compute_loss: Maps the full-batch embeddings (one tensor per pass) to the loss.

        Returns:
            The loss and its statistics. Outside grad mode (validation) a plain loss value.
        """
        chunks = [split_features(p.features, self.mini_batch_size) for p in passes]
        device_type = next(iter(passes[0].features.values())).device.type
        autocast = _AutocastState.capture(device_type)
        states: list[list[RandContext]] = []
        columns: list[Tensor] = []
        with torch.no_grad():
            for p, column_chunks in zip(passes, chunks, strict=True):
                column_states: list[RandContext] = []
                embeddings: list[Tensor] = []
                for mb in column_chunks:
                    column_states.append(RandContext(*mb.values()))
                    embeddings.append(p.encode(mb))
                states.append(column_states)
                columns.append(torch.cat(embeddings))
        if not torch.is_grad_enabled():
            return compute_loss(columns)
        leaves = [c.detach().requires_grad_() for c in columns]
        for p, column_chunks, column_states, leaf in zip(passes, chunks, states, leaves, strict=True):
            leaf.register_hook(partial(_replay, p.encode, column_chunks, column_states, autocast))
        return compute_loss(leaves)


def _replay(
    encode: Callable[[Features], Tensor],
    chunks: list[Features],
    states: list[RandContext],
    autocast: _AutocastState,
    grad: Tensor,
) -> None:
    """Hook on a column's detached embeddings: re-embed each mini-batch with a graph, push ``grad`` through it."""
    with torch.enable_grad():
        for mb, state, mb_grad in zip(chunks, states, grad.split([_rows(mb) for mb in chunks]), strict=True):
            with state, autocast.context():
                embeddings = encode(mb)
            if embeddings.requires_grad:  # False for a frozen encoder
                embeddings.backward(mb_grad.to(embeddings.dtype))
