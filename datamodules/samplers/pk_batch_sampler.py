"""P×K batches (P labels, K examples each) for batch-triplet and other label-mining losses."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from datamodules.samplers.epoch_batch_sampler import EpochBatchSampler


class _LabelStream:
    """Endless shuffled pass over one label's rows; K consecutive draws are distinct when possible."""

    def __init__(self, indices: np.ndarray) -> None:
        self.indices = indices
        self.queue: list[int] = []

    def take(self, count: int, rng: np.random.Generator) -> list[int]:
        out: list[int] = []
        while len(out) < count:
            if not self.queue:
                # Refill with a fresh permutation, putting rows not yet taken in this draw first so a
                # draw of K <= class size never repeats a row.
                perm = rng.permutation(self.indices).tolist()
                self.queue = [i for i in perm if i not in out] + [i for i in perm if i in out]
            out.append(self.queue.pop(0))
        return out


class PKBatchSampler(EpochBatchSampler):
    """Batches of P = batch_size / K labels with K rows each.

    Each batch draws P distinct labels (all labels, plus repeats, when P exceeds their number), with
    probability proportional to label frequency, and takes the next K rows of each label from a
    per-label shuffled stream, so every row is visited about once per epoch. Every batch therefore has
    at least 2 labels with at least 2 rows each. A label with fewer than K (but at least 2) rows is
    sampled with replacement: its rows repeat within the batch. An epoch has ``len(labels) // batch_size``
    batches (at least one).

    Args:
        labels: Class id of each row.
        batch_size: Rows per batch; must be a multiple of ``samples_per_label`` and hold at least 2 labels.
        samples_per_label: K, rows per label in a batch (at least 2).
        seed: Base seed (see :class:`EpochBatchSampler`).
        rank: Process rank (``None``: from ``torch.distributed``).
        world_size: Number of processes (``None``: from ``torch.distributed``).

    Raises:
        ValueError: If K < 2, batch_size is not a multiple of K or below 2K, there are fewer than 2
            labels, or a label has a single row.
    """

    def __init__(
        self,
        labels: Sequence[int] | np.ndarray,
        batch_size: int,
        samples_per_label: int,
        seed: int,
        rank: int | None = None,
        world_size: int | None = None,
    ) -> None:
        super().__init__(batch_size, seed, rank, world_size)
        check_pk_batch_size(batch_size, samples_per_label)
        labels = np.asarray(labels)
        self.label_values, counts = np.unique(labels, return_counts=True)
        if len(self.label_values) < 2:
            raise ValueError(f"P×K sampling needs at least 2 labels, got {len(self.label_values)}")
        if counts.min() < 2:
            singles = self.label_values[counts < 2].tolist()
            raise ValueError(f"P×K sampling needs at least 2 rows per label; labels with one row: {singles}")
        self.labels = labels
        self.samples_per_label = samples_per_label
        self.labels_per_batch = batch_size // samples_per_label
        self.weights = counts / counts.sum()
        self.num_batches = max(1, len(labels) // batch_size)

    def global_batches(self, rng: np.random.Generator) -> list[list[int]]:
        """Draw ``num_batches`` P×K batches."""
        streams = [_LabelStream(np.flatnonzero(self.labels == value)) for value in self.label_values]
        n_labels = len(streams)
        batches = []
        for _ in range(self.num_batches):
            chosen = rng.choice(n_labels, size=min(self.labels_per_batch, n_labels), replace=False, p=self.weights)
            extra = rng.choice(n_labels, size=self.labels_per_batch - len(chosen), p=self.weights)
            batch = [
                i for label in np.concatenate([chosen, extra]) for i in streams[label].take(self.samples_per_label, rng)
            ]
            batches.append(batch)
        return batches


def check_pk_batch_size(batch_size: int, samples_per_label: int) -> None:
    """Check that a batch of ``batch_size`` holds at least 2 labels with ``samples_per_label`` rows each.

    Raises:
        ValueError: Naming the argument and the expected value.
    """
    if samples_per_label < 2:
        raise ValueError(f"samples_per_label={samples_per_label}: P×K sampling needs K >= 2")
    if batch_size % samples_per_label:
        raise ValueError(
            f"batch_size={batch_size} is not divisible by samples_per_label={samples_per_label} (K of P×K); "
            f"use e.g. batch_size={batch_size - batch_size % samples_per_label or 2 * samples_per_label}"
        )
    if batch_size < 2 * samples_per_label:
        raise ValueError(
            f"batch_size={batch_size}: P×K sampling needs at least 2 labels per batch, "
            f"i.e. batch_size >= 2 * samples_per_label = {2 * samples_per_label}"
        )
