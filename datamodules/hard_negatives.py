"""Hardest negatives: for each row, the other-label row whose embedding is most cosine-similar to it."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

# Rows per similarity block: a (chunk, N) float32 block stays ~40 MB for N = 10k rows.
DEFAULT_CHUNK_SIZE = 1024


def hardest_negatives(embeddings: np.ndarray, labels: np.ndarray, chunk_size: int = DEFAULT_CHUNK_SIZE) -> np.ndarray:
    """Index of the most cosine-similar row with another label, for every row.

    Similarities are computed ``chunk_size`` anchors at a time, so memory stays ``O(chunk_size * N)``
    instead of ``O(N²)``. Ties go to the lowest index.

    Args:
        embeddings: ``(N, D)`` row embeddings.
        labels: ``(N,)`` integer class ids; at least two distinct values.
        chunk_size: Anchors per similarity block.

    Returns:
        ``(N,)`` int64 row indices; ``labels[result[i]] != labels[i]`` for every ``i``.

    Raises:
        ValueError: If the shapes disagree, ``chunk_size`` is not positive or there is a single label.
    """
    if embeddings.ndim != 2 or labels.shape != (len(embeddings),):
        raise ValueError(f"embeddings {embeddings.shape} and labels {labels.shape}: expected (N, D) and (N,)")
    if chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size}: expected a positive integer")
    if len(np.unique(labels)) < 2:
        raise ValueError("labels: hardest negatives need at least 2 distinct labels")
    # Unit vectors: a block's dot products are its cosine similarities.
    vectors = F.normalize(torch.from_numpy(np.ascontiguousarray(embeddings, dtype=np.float32)), dim=1)
    classes = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    out = torch.empty(len(vectors), dtype=torch.int64)
    for start in range(0, len(vectors), chunk_size):
        block = vectors[start : start + chunk_size] @ vectors.T
        block.masked_fill_(classes[start : start + chunk_size, None] == classes[None, :], float("-inf"))
        out[start : start + chunk_size] = block.argmax(dim=1)
    return out.numpy()
