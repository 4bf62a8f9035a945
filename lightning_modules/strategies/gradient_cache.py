"""Gradient caching (GradCache, Gao et al. 2021): in-batch losses over large batches in bounded memory.

As sentence-transformers' cached losses:

1. embed every mini-batch without a graph, recording the RNG state before each forward pass;
2. compute the loss on the detached full-batch embeddings (the loss's own small graph is kept);
3. in the backward pass, a hook on each column's detached embeddings receives the loss's gradient
   w.r.t. them, re-embeds each mini-batch with a graph under the recorded RNG state (so dropout draws
   the same masks) and autocast state, and back-propagates that gradient into the encoder.

Mini-batches hold ``mini_batch_size`` sequences, or, with ``mini_batch_num_tokens`` (sentence-transformers
6.2's token budget), as many consecutive sequences as fit in that many non-padding tokens; each is cut to
its own longest sequence. Only one mini-batch of encoder activations is alive at a time. Because step 3
hangs off the returned loss's own backward, the strategy works under Lightning's automatic optimisation,
gradient accumulation and loss scaling (whatever gradient reaches the loss reaches every replayed
mini-batch), and parameters of the loss itself (a learnable scale, a classifier) get their gradients as usual. Unlike
sentence-transformers, the loss is not back-propagated chunk by chunk during the forward pass: its graph
(e.g. the ``B x B`` similarity matrix) lives until the backward pass, which is negligible next to encoder
activations for batches up to tens of thousands.

Under DistributedDataParallel the parameters' gradients must be accumulated exactly once per backward
pass, because DDP's reducer all-reduces each parameter when its gradient is accumulated. With
``defer_gradient_sync`` (the default whenever a multi-rank process group is initialised), every replayed
mini-batch but the last of each encoder computes its parameter gradients with ``torch.autograd.grad``
(which runs no accumulation hooks) into a buffer; the buffer is added to ``.grad`` and the last
mini-batches are back-propagated in one call, so each parameter is accumulated, and synchronised, once.
This costs one gradient-sized buffer per encoder (sentence-transformers instead re-enters DDP's forward
under ``no_sync``, which is not possible when DDP wraps the whole LightningModule).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn
from torch.utils.checkpoint import get_device_states, set_device_states

from core.batch_formats import TokenizedBatch
from lightning_modules.distributed import is_distributed
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


def check_mini_batch_num_tokens(mini_batch_num_tokens: int | None) -> None:
    """Raise ``ValueError`` unless ``mini_batch_num_tokens`` is ``None`` or a positive integer."""
    if mini_batch_num_tokens is not None and mini_batch_num_tokens <= 0:
        raise ValueError(f"mini_batch_num_tokens must be a positive integer or None, got {mini_batch_num_tokens}")


def mini_batch_ranges(
    features: Features, mini_batch_size: int, mini_batch_num_tokens: int | None = None
) -> list[tuple[int, int]]:
    """The ``(begin, end)`` row ranges of the mini-batches, as sentence-transformers 6.2 computes them.

    Without a token budget every range holds ``mini_batch_size`` rows. With ``mini_batch_num_tokens``,
    each range greedily takes consecutive rows while their non-padding tokens (from the attention mask)
    stay within the budget; a row longer than the budget forms its own mini-batch.
    """
    size = _rows(features)
    if mini_batch_num_tokens is None:
        return [(begin, min(begin + mini_batch_size, size)) for begin in range(0, size, mini_batch_size)]
    if "attention_mask" not in features:
        raise ValueError(
            "mini_batch_num_tokens needs per-sequence token counts, but the features have no 'attention_mask'; "
            "use mini_batch_size instead"
        )
    cumulative = features["attention_mask"].sum(dim=1).cumsum(dim=0).tolist()
    ranges = []
    begin = 0
    while begin < size:
        before = cumulative[begin - 1] if begin > 0 else 0
        end = max(bisect.bisect_right(cumulative, before + mini_batch_num_tokens), begin + 1)
        ranges.append((begin, end))
        begin = end
    return ranges


def _mini_batch(features: Features, begin: int, end: int) -> Features:
    """Rows ``begin:end``, without the trailing token columns that are padding in every one of those rows.

    As sentence-transformers: a mini-batch of short rows is then not embedded at the whole batch's width
    (else a token budget would not bound memory). Leading padding is kept, so positions do not move.
    """
    rows = {k: v[begin:end] for k, v in features.items()}
    mask = rows.get("attention_mask")
    if mask is None or mask.dim() != 2:
        return rows
    active = mask.bool().any(dim=0).nonzero()
    width = int(active.max()) + 1 if active.numel() else mask.shape[1]
    if width == mask.shape[1]:
        return rows
    return {k: v[:, :width] if v.dim() >= 2 and v.shape[1] == mask.shape[1] else v for k, v in rows.items()}


def split_features(
    features: Features, mini_batch_size: int, mini_batch_num_tokens: int | None = None
) -> list[Features]:
    """Slice tokenizer features into consecutive mini-batches (see :func:`mini_batch_ranges`)."""
    ranges = mini_batch_ranges(features, mini_batch_size, mini_batch_num_tokens)
    return [_mini_batch(features, begin, end) for begin, end in ranges]


class GradientCache:
    """Computes an in-batch loss with gradient caching.

    Args:
        mini_batch_size: Sequences per forward pass; bounds activation memory independently of the batch.
        defer_gradient_sync: Accumulate each parameter's gradient once per backward pass (needed under
            DDP, see the module docstring); ``None`` (default) enables it when a process group with more
            than one rank is initialised.
        mini_batch_num_tokens: Pack the mini-batches by non-padding tokens instead (sentence-transformers
            6.2's token budget): consecutive sequences up to this many tokens per forward pass, which keeps
            the work per pass even on data of varied length; ``None`` (default) uses ``mini_batch_size``.
    """

    def __init__(
        self, mini_batch_size: int, defer_gradient_sync: bool | None = None, mini_batch_num_tokens: int | None = None
    ) -> None:
        if mini_batch_size < 1:
            raise ValueError(f"mini_batch_size must be >= 1, got {mini_batch_size}")
        check_mini_batch_num_tokens(mini_batch_num_tokens)
        self.mini_batch_size = mini_batch_size
        self.defer_gradient_sync = defer_gradient_sync
        self.mini_batch_num_tokens = mini_batch_num_tokens

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
        device_type = next(iter(passes[0].features.values())).device.type
        autocast = _AutocastState.capture(device_type)
        replays: list[_PassReplay] = []
        columns: list[Tensor] = []
        with torch.no_grad():
            for p in passes:
                chunks = split_features(p.features, self.mini_batch_size, self.mini_batch_num_tokens)
                states: list[RandContext] = []
                embeddings: list[Tensor] = []
                for mb in chunks:
                    states.append(RandContext(*mb.values()))
                    embeddings.append(p.encode(mb))
                replays.append(_PassReplay(p.encode, chunks, states))
                columns.append(torch.cat(embeddings))
        if not torch.is_grad_enabled():
            return compute_loss(columns)
        defer = is_distributed() if self.defer_gradient_sync is None else self.defer_gradient_sync
        leaves = [c.detach().requires_grad_() for c in columns]
        # One hook for all columns, called once every column's gradient is known: the replay must see
        # them all to tell which mini-batch is the last one of each encoder.
        torch.autograd.graph.register_multi_grad_hook(leaves, partial(_replay, replays, autocast, defer), mode="all")
        return compute_loss(leaves)


@dataclass(frozen=True)
class _PassReplay:
    """What the backward pass needs to re-embed one column: its encoder, mini-batches and RNG states."""

    encode: nn.Module
    chunks: list[Features]
    states: list[RandContext]


def _replay(
    replays: list[_PassReplay], autocast: _AutocastState, defer_sync: bool, grads: Sequence[Tensor | None]
) -> None:
    """Re-embed every mini-batch with a graph and push the loss's gradient through it.

    Without ``defer_sync`` each mini-batch is back-propagated at once (one mini-batch alive at a time).
    With it, see the module docstring: the last mini-batch of each encoder is kept for one final joint
    backward call, after the others' parameter gradients were added to ``.grad``.
    """
    last_of_encoder = {id(r.encode): (i, len(r.chunks) - 1) for i, r in enumerate(replays) if grads[i] is not None}
    buffers: dict[nn.Parameter, Tensor] = {}
    finals: list[tuple[Tensor, Tensor]] = []
    with torch.enable_grad():
        for i, (replay, grad) in enumerate(zip(replays, grads, strict=True)):
            if grad is None:  # the loss does not depend on this column
                continue
            mb_grads = grad.split([_rows(mb) for mb in replay.chunks])
            for j, (mb, state, mb_grad) in enumerate(zip(replay.chunks, replay.states, mb_grads, strict=True)):
                with state, autocast.context():
                    embeddings = replay.encode(mb)
                if not embeddings.requires_grad:  # a frozen encoder
                    continue
                mb_grad = mb_grad.to(embeddings.dtype)
                if not defer_sync:
                    embeddings.backward(mb_grad)
                elif last_of_encoder[id(replay.encode)] == (i, j):
                    finals.append((embeddings, mb_grad))
                else:
                    _accumulate(replay.encode, embeddings, mb_grad, buffers)
        for param, buffer in buffers.items():
            param.grad = buffer if param.grad is None else param.grad.add_(buffer)
        if finals:
            torch.autograd.backward([e for e, _ in finals], [g for _, g in finals])


def _accumulate(module: nn.Module, embeddings: Tensor, grad: Tensor, buffers: dict[nn.Parameter, Tensor]) -> None:
    """Add the parameter gradients of ``embeddings`` (seeded with ``grad``) to ``buffers``, not to ``.grad``."""
    params = [p for p in module.parameters() if p.requires_grad]
    for param, param_grad in zip(params, torch.autograd.grad(embeddings, params, grad, allow_unused=True), strict=True):
        if param_grad is not None:
            buffers[param] = param_grad if param not in buffers else buffers[param].add_(param_grad)
