"""Training batch samplers: random (optionally length-grouped), P×K, no-duplicates."""

from datamodules.samplers.epoch_batch_sampler import EpochBatchSampler, distributed_rank_and_world_size
from datamodules.samplers.epoch_tagged_batch_sampler import EpochTaggedBatchSampler
from datamodules.samplers.no_duplicates_batch_sampler import NoDuplicatesBatchSampler
from datamodules.samplers.pk_batch_sampler import PKBatchSampler, check_pk_batch_size
from datamodules.samplers.random_batch_sampler import RandomBatchSampler

__all__ = [
    "EpochBatchSampler",
    "EpochTaggedBatchSampler",
    "NoDuplicatesBatchSampler",
    "PKBatchSampler",
    "RandomBatchSampler",
    "check_pk_batch_size",
    "distributed_rank_and_world_size",
]
