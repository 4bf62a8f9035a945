"""Tokenised batches of distinct sentences, for tests that run a real (tiny) encoder."""

from __future__ import annotations

import torch

from core.batch_formats import BatchFormat, TokenizedBatch
from lightning_modules.encoders.hf_encoder import HFEncoder

_WORDS = "river stone light garden music paper window cloud forest engine silver market".split()


def sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct sentences of varied length (so batches are padded)."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        length = 2 + int(torch.randint(0, 8, (1,), generator=g))
        words = [_WORDS[int(j)] for j in torch.randint(0, len(_WORDS), (length,), generator=g)]
        out.append(f"{i} " + " ".join(words))
    return out


def text_batch(
    encoder: HFEncoder, batch_format: BatchFormat, batch_size: int, labels: torch.Tensor | None = None
) -> TokenizedBatch:
    """A batch of ``batch_format`` with distinct texts in every column."""
    columns = [sentences(batch_size, seed=c) for c in range(len(batch_format.columns))]
    return TokenizedBatch([encoder.tokenize(col) for col in columns], labels, batch_format, columns)
