"""Pooling of token embeddings into one sentence embedding: every mode of sentence-transformers' ``Pooling``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import torch
from torch import Tensor

PoolingMode = Literal["cls", "max", "mean", "mean_sqrt_len_tokens", "weightedmean", "lasttoken"]
POOLING_MODES: tuple[str, ...] = get_args(PoolingMode)


def pooling_modes(mode: str | Sequence[str]) -> tuple[str, ...]:
    """One mode or several (concatenated, in order) as a checked tuple.

    Raises:
        ValueError: For an unknown mode or an empty list.
    """
    modes = (mode,) if isinstance(mode, str) else tuple(mode)
    unknown = [m for m in modes if m not in POOLING_MODES]
    if unknown or not modes:
        raise ValueError(f"pooling must be one of {POOLING_MODES} or a list of them, got {mode!r}")
    return modes


def exclude_prompt(attention_mask: Tensor, prompt_length: int) -> Tensor:
    """A copy of ``attention_mask`` with the first ``prompt_length`` real tokens of every row masked.

    Left padding is allowed: the prompt starts at each row's first real token.
    """
    pad_lengths = attention_mask.to(torch.int32).argmax(dim=1)
    positions = torch.arange(attention_mask.shape[1], device=attention_mask.device).unsqueeze(0)
    return attention_mask.masked_fill(positions < (pad_lengths + prompt_length).unsqueeze(1), 0)


def pool(
    token_embeddings: Tensor,
    attention_mask: Tensor,
    mode: PoolingMode | Sequence[PoolingMode],
    prompt_length: int | None = None,
) -> Tensor:
    """Pool ``(B, T, D)`` token embeddings into ``(B, D × number of modes)``, ignoring padding.

    The arithmetic follows sentence-transformers' ``Pooling`` (same masking, same float32 accumulation
    for half-precision inputs), so an exported model reproduces these embeddings.

    Args:
        token_embeddings: Hidden states of one layer.
        attention_mask: ``(B, T)`` mask, 1 for real tokens (left or right padding).
        mode: ``cls`` (first real token), ``max`` (masked max), ``mean`` (masked average),
            ``mean_sqrt_len_tokens`` (masked sum / √length), ``weightedmean`` (position-weighted average,
            weights 1, 2, ... from the first real token) or ``lasttoken`` (last real token); a list of
            modes concatenates their outputs in order.
        prompt_length: When given, the first ``prompt_length`` real tokens (a prompt that the model's
            pooling excludes, ``include_prompt: false``) are left out of every mode; ``weightedmean``
            keeps the remaining tokens' original position weights.

    Returns:
        The pooled embeddings.
    """
    modes = pooling_modes(mode)
    original_mask = attention_mask
    if prompt_length:
        attention_mask = exclude_prompt(attention_mask, prompt_length)
    half = token_embeddings.dtype in (torch.float16, torch.bfloat16)
    accumulate = torch.float32 if half else token_embeddings.dtype
    return torch.cat([_pool_one(token_embeddings, attention_mask, original_mask, m, accumulate) for m in modes], dim=-1)


def _pool_one(tokens: Tensor, mask: Tensor, original_mask: Tensor, mode: str, accumulate: torch.dtype) -> Tensor:
    if mode == "cls":
        first = mask.to(torch.int).argmax(dim=1)
        return tokens[torch.arange(tokens.shape[0], device=tokens.device), first]
    if mode == "max":
        return tokens.masked_fill(mask.unsqueeze(-1) == 0, float("-inf")).max(dim=1).values
    if mode in ("mean", "mean_sqrt_len_tokens"):
        weights = mask.unsqueeze(-1).to(tokens.dtype)
        summed = (tokens * weights).sum(dim=1, dtype=accumulate)
        count = weights.sum(dim=1, dtype=accumulate).clamp(min=1e-9)
        return (summed / (count if mode == "mean" else count.sqrt())).to(tokens.dtype)
    if mode == "weightedmean":
        positions = torch.arange(1, tokens.shape[1] + 1, device=tokens.device, dtype=accumulate).view(1, -1, 1)
        # Weights count from each row's first real token, so left padding does not shift them.
        positions = positions - original_mask.to(torch.int32).argmax(dim=1).view(-1, 1, 1)
        weights = mask.unsqueeze(-1).to(accumulate) * positions
        summed = (tokens * weights).sum(dim=1)
        return (summed / weights.sum(dim=1).clamp(min=1e-9)).to(tokens.dtype)
    if mode == "lasttoken":
        seq_len = tokens.shape[1]
        found, from_end = mask.flip(1).max(1)
        last = seq_len - 1 - torch.where(found == 0, seq_len - 1, from_end)
        masked = tokens * mask.unsqueeze(-1).to(tokens.dtype)
        return masked[torch.arange(tokens.shape[0], device=tokens.device), last]
    raise ValueError(f"pooling must be one of {POOLING_MODES}, got {mode!r}")
