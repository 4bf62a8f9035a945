"""Batches in which no text occurs twice, for losses that use in-batch negatives."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from datamodules.samplers.epoch_batch_sampler import EpochBatchSampler


class NoDuplicatesBatchSampler(EpochBatchSampler):
    """Shuffled batches where no text appears in two rows of the same batch (across all columns).

    A row whose text is already in the batch being filled is deferred to a later batch, never dropped:
    every row appears exactly once per epoch. Batches near the end of an epoch can be smaller when the
    remaining rows share texts. A row repeating a text within itself (anchor == positive) is kept as is.

    Args:
        row_texts: The texts of each row (all columns).
        batch_size: Maximum rows per batch.
        seed: Base seed (see :class:`EpochBatchSampler`).
        rank: Process rank (``None``: from ``torch.distributed``).
        world_size: Number of processes (``None``: from ``torch.distributed``).
    """

    def __init__(
        self,
        row_texts: Sequence[Sequence[str]],
        batch_size: int,
        seed: int,
        rank: int | None = None,
        world_size: int | None = None,
    ) -> None:
        super().__init__(batch_size, seed, rank, world_size)
        if not row_texts:
            raise ValueError("row_texts is empty: cannot sample batches from an empty dataset")
        self.row_texts = [tuple(texts) for texts in row_texts]

    def global_batches(self, rng: np.random.Generator) -> list[list[int]]:
        """Fill batches in shuffled order, deferring rows that would repeat a text."""
        remaining = dict.fromkeys(rng.permutation(len(self.row_texts)).tolist())
        batches: list[list[int]] = []
        while remaining:
            batch: list[int] = []
            seen: set[str] = set()
            for index in remaining:
                texts = self.row_texts[index]
                if seen.isdisjoint(texts):
                    batch.append(index)
                    seen.update(texts)
                    if len(batch) == self.batch_size:
                        break
            for index in batch:
                del remaining[index]
            batches.append(batch)
        return batches
