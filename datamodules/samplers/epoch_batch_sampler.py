"""Base class for the training batch samplers: seeded epochs and rank sharding."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch.distributed as dist
from torch.utils.data import Sampler


def distributed_rank_and_world_size() -> tuple[int, int]:
    """This process's rank and the world size (``(0, 1)`` outside ``torch.distributed``)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class EpochBatchSampler(Sampler[list[int]]):
    """Yields lists of row indices; every epoch reshuffles deterministically from ``(seed, epoch)``.

    Epoch tracking: Lightning only calls ``set_epoch`` on ``batch_sampler.sampler``, never on a custom
    batch sampler, so each ``__iter__`` uses the current epoch and then advances it by one. The
    DataModule calls :meth:`set_epoch` with the trainer's epoch whenever it builds the dataloader, so a
    resumed run continues the same sequence.

    Resuming mid-epoch: :meth:`state_dict` is the position in the stream of batches (epoch, and batches
    of it already yielded); after :meth:`load_state_dict`, the next ``__iter__`` yields only the rest of
    that epoch. ``__len__`` stays the full epoch, as Lightning counts the skipped batches as done.

    Distributed: all ranks build the same global list of batches for the epoch, and rank ``r`` takes
    every ``world_size``-th batch starting at ``r``; the list is padded by wrapping around so every rank
    gets the same number of batches (a few batches repeat rather than one rank stalling in a collective).

    Args:
        batch_size: Rows per batch.
        seed: Base seed; epoch ``e`` uses ``numpy.random.default_rng([seed, e])``.
        rank: This process's rank; ``None`` reads it from ``torch.distributed`` (0 when not initialised).
        world_size: Number of processes; ``None`` reads it from ``torch.distributed`` (1 when not
            initialised).
    """

    def __init__(self, batch_size: int, seed: int, rank: int | None = None, world_size: int | None = None) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size}: expected a positive integer")
        default_rank, default_world = distributed_rank_and_world_size()
        self.rank = default_rank if rank is None else rank
        self.world_size = default_world if world_size is None else world_size
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f"rank={self.rank}, world_size={self.world_size}: expected 0 <= rank < world_size")
        self.batch_size = batch_size
        self.seed = seed
        self.epoch = 0
        self._skip = 0  # batches of ``epoch`` the next ``__iter__`` skips (set by load_state_dict)
        self._position: tuple[int, int] | None = None  # (epoch, batches yielded) of an unfinished iteration
        self._cache: tuple[int, list[list[int]]] | None = None

    def set_epoch(self, epoch: int) -> None:
        """Make the next ``__iter__`` produce epoch ``epoch``, from its first batch."""
        self.epoch = epoch
        self._skip = 0
        self._position = None

    def state_dict(self) -> dict[str, int]:
        """Where the stream of batches stands: ``epoch`` and ``batches_yielded`` of it so far."""
        epoch, yielded = self._position if self._position is not None else (self.epoch, self._skip)
        return {"epoch": epoch, "batches_yielded": yielded}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Continue from a :meth:`state_dict`: the next ``__iter__`` yields the rest of its epoch.

        A state at the end of an epoch continues with the next epoch.

        Raises:
            ValueError: If ``batches_yielded`` is negative.
        """
        epoch, yielded = int(state["epoch"]), int(state["batches_yielded"])
        if yielded < 0:
            raise ValueError(f"batches_yielded={yielded}: expected >= 0")
        self.set_epoch(epoch)
        if yielded >= len(self):
            self.set_epoch(epoch + 1)
        else:
            self._skip = yielded

    def global_batches(self, rng: np.random.Generator) -> list[list[int]]:
        """All batches of one epoch, before sharding across ranks (subclasses implement)."""
        raise NotImplementedError

    def _rank_batches(self) -> list[list[int]]:
        if self._cache is None or self._cache[0] != self.epoch:
            batches = self.global_batches(np.random.default_rng([self.seed, self.epoch]))
            per_rank = -(-len(batches) // self.world_size)
            padded = [batches[i % len(batches)] for i in range(per_rank * self.world_size)]
            self._cache = (self.epoch, padded[self.rank :: self.world_size])
        return self._cache[1]

    def __len__(self) -> int:
        return len(self._rank_batches())

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._rank_batches()
        epoch, start = self.epoch, self._skip
        self.set_epoch(epoch + 1)
        self._position = (epoch, start)
        return self._yield_from(batches, epoch, start)

    def _yield_from(self, batches: list[list[int]], epoch: int, start: int) -> Iterator[list[int]]:
        for index in range(start, len(batches)):
            self._position = (epoch, index + 1)
            yield batches[index]
        self._position = None
