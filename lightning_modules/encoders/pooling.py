"""Pooling of token embeddings into one sentence embedding."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

PoolingMode = Literal["mean", "cls", "max", "lasttoken"]
POOLING_MODES: tuple[str, ...] = ("mean", "cls", "max", "lasttoken")


def pool(token_embeddings: Tensor, attention_mask: Tensor, mode: PoolingMode) -> Tensor:
    """Pool ``(B, T, D)`` token embeddings into ``(B, D)``, ignoring padding.

    Args:
        token_embeddings: Hidden states of one layer.
        attention_mask: ``(B, T)`` mask, 1 for real tokens.
        mode: ``mean`` (masked average, as all-MiniLM-L6-v2), ``cls`` (first token), ``max`` (masked
            max) or ``lasttoken`` (last real token, right padding).

    Returns:
        The pooled ``(B, D)`` embeddings.
    """
    if mode == "cls":
        return token_embeddings[:, 0]
    mask = attention_mask.unsqueeze(-1).to(token_embeddings.dtype)
    if mode == "mean":
        # Same arithmetic as sentence-transformers' Pooling so exported models match bit for bit.
        summed = (token_embeddings * mask).sum(1)
        return summed / mask.sum(1).clamp(min=1e-9)
    if mode == "max":
        return token_embeddings.masked_fill(mask == 0, torch.finfo(token_embeddings.dtype).min).max(1).values
    if mode == "lasttoken":
        last = attention_mask.sum(1).long() - 1
        return token_embeddings[torch.arange(token_embeddings.shape[0], device=last.device), last]
    raise ValueError(f"pooling must be one of {POOLING_MODES}, got {mode!r}")
