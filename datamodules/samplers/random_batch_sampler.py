"""Shuffled batches, optionally grouped by length to cut padding."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from datamodules.samplers.epoch_batch_sampler import EpochBatchSampler

# Rows are sorted by length inside windows of this many batches: enough to cut padding, small enough
# that batch composition stays random.
LENGTH_WINDOW_BATCHES = 50


class RandomBatchSampler(EpochBatchSampler):
    """Every row once per epoch, in random batches (the last one may be smaller).

    Args:
        num_rows: Dataset size.
        batch_size: Rows per batch.
        seed: Base seed (see :class:`EpochBatchSampler`).
        lengths: Per-row lengths (e.g. characters); when given, rows are sorted by length within windows
            of ``LENGTH_WINDOW_BATCHES`` batches and the batches are then shuffled.
        rank: Process rank (``None``: from ``torch.distributed``).
        world_size: Number of processes (``None``: from ``torch.distributed``).
    """

    def __init__(
        self,
        num_rows: int,
        batch_size: int,
        seed: int,
        lengths: Sequence[int] | None = None,
        rank: int | None = None,
        world_size: int | None = None,
    ) -> None:
        super().__init__(batch_size, seed, rank, world_size)
        if num_rows < 1:
            raise ValueError("num_rows=0: cannot sample batches from an empty dataset")
        if lengths is not None and len(lengths) != num_rows:
            raise ValueError(f"lengths has {len(lengths)} entries, expected num_rows={num_rows}")
        self.num_rows = num_rows
        self.lengths = None if lengths is None else np.asarray(lengths)

    def global_batches(self, rng: np.random.Generator) -> list[list[int]]:
        """Shuffle, optionally length-sort per window, cut into batches, shuffle batch order."""
        order = rng.permutation(self.num_rows)
        if self.lengths is not None:
            window = self.batch_size * LENGTH_WINDOW_BATCHES
            chunks = [order[i : i + window] for i in range(0, self.num_rows, window)]
            order = np.concatenate([c[np.argsort(self.lengths[c], kind="stable")] for c in chunks])
        batches = [order[i : i + self.batch_size].tolist() for i in range(0, self.num_rows, self.batch_size)]
        if self.lengths is not None:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches
