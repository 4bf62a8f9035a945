"""How training and evaluation batches are drawn (the DataModule's ``batching`` group)."""

from __future__ import annotations

from dataclasses import dataclass

from datamodules.sampler_choice import SamplerName


@dataclass(frozen=True)
class BatchingOptions:
    """Batch sizes, the training sampler and loader workers.

    Args:
        batch_size: Training batch size.
        eval_batch_size: Validation/test batch size.
        sampler: ``auto`` (what the loss needs), ``random``, ``pk`` (P×K) or ``no_duplicates``.
        samples_per_label: K of P×K sampling.
        group_by_length: Group similar lengths into batches (random sampler only) to cut padding.
        num_workers: DataLoader worker processes.
    """

    batch_size: int = 32
    eval_batch_size: int = 64
    sampler: SamplerName = "auto"
    samples_per_label: int = 2
    group_by_length: bool = False
    num_workers: int = 0

    def __post_init__(self) -> None:
        for name in ("batch_size", "eval_batch_size", "samples_per_label"):
            value = getattr(self, name)
            if value < 1:
                raise ValueError(f"batching.{name}={value}: expected a positive integer")
        if self.num_workers < 0:
            raise ValueError(f"batching.num_workers={self.num_workers}: expected >= 0")
        if self.sampler not in ("auto", "random", "pk", "no_duplicates"):
            raise ValueError(f"batching.sampler={self.sampler!r}: expected one of auto, random, pk, no_duplicates")
