import numpy as np

from datamodules.samplers import RandomBatchSampler
from datamodules.samplers.random_batch_sampler import LENGTH_WINDOW_BATCHES


def test_every_row_once_per_epoch():
    batches = list(RandomBatchSampler(10, batch_size=4, seed=0))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(i for b in batches for i in b) == list(range(10))


def test_length_grouping_reduces_padding():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 200, size=2000)

    def padding(sampler):
        return sum(lengths[b].max() * len(b) - lengths[b].sum() for b in sampler)

    grouped = RandomBatchSampler(2000, batch_size=16, seed=0, lengths=lengths.tolist())
    plain = RandomBatchSampler(2000, batch_size=16, seed=0)
    batches = list(grouped)
    assert sorted(i for b in batches for i in b) == list(range(2000))
    assert padding(grouped) < 0.5 * padding(plain)
    # windows of LENGTH_WINDOW_BATCHES batches are sorted, and then the batch order is shuffled
    first_batch_lengths = [lengths[b].max() for b in batches[:LENGTH_WINDOW_BATCHES]]
    assert first_batch_lengths != sorted(first_batch_lengths)
