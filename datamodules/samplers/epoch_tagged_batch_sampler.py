"""Batches of ``(epoch, row)`` keys, for datasets whose rows change from epoch to epoch."""

from __future__ import annotations

from collections.abc import Iterator

from torch.utils.data import Sampler

from datamodules.samplers.epoch_batch_sampler import EpochBatchSampler


class EpochTaggedBatchSampler(Sampler[list[tuple[int, int]]]):
    """Wraps a batch sampler and tags every row index with the epoch it is drawn in.

    DataLoader workers hold copies of the dataset that never see the trainer's epoch; passing the epoch
    inside each key lets a dataset (e.g. :class:`~datamodules.noisy_text_dataset.NoisyTextDataset`) draw
    per-epoch randomness that is the same in every worker.

    Args:
        batches: The batch sampler deciding which rows form each batch.
    """

    def __init__(self, batches: EpochBatchSampler) -> None:
        self.batches = batches

    def set_epoch(self, epoch: int) -> None:
        """Make the next ``__iter__`` produce epoch ``epoch``."""
        self.batches.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        epoch = self.batches.epoch  # read before iterating: the wrapped sampler advances it
        for batch in self.batches:
            yield [(epoch, row) for row in batch]
