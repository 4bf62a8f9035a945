"""Epoch tracking and rank sharding, shared by every training sampler."""

import numpy as np
import pytest

from datamodules.samplers import NoDuplicatesBatchSampler, PKBatchSampler, RandomBatchSampler

N = 96
LABELS = np.arange(N) % 6
TEXTS = [(f"a{i}", f"b{i % 40}") for i in range(N)]

FACTORIES = {
    "random": lambda seed, **kw: RandomBatchSampler(N, batch_size=8, seed=seed, **kw),
    "pk": lambda seed, **kw: PKBatchSampler(LABELS, batch_size=8, samples_per_label=2, seed=seed, **kw),
    "no_duplicates": lambda seed, **kw: NoDuplicatesBatchSampler(TEXTS, batch_size=8, seed=seed, **kw),
}


@pytest.fixture(params=sorted(FACTORIES))
def factory(request):
    return FACTORIES[request.param]


def test_same_seed_and_epoch_give_the_same_batches(factory):
    first, second = factory(3), factory(3)
    assert [list(first) for _ in range(3)] == [list(second) for _ in range(3)]


def test_each_iteration_advances_the_epoch_and_reshuffles(factory):
    sampler = factory(3)
    epoch0, epoch1 = list(sampler), list(sampler)
    assert sampler.epoch == 2
    assert epoch0 != epoch1
    sampler.set_epoch(1)
    assert list(sampler) == epoch1


def test_different_seeds_differ(factory):
    assert list(factory(1)) != list(factory(2))


def test_len_matches_iteration(factory):
    sampler = factory(0)
    for _ in range(3):
        expected = len(sampler)
        assert len(list(sampler)) == expected


@pytest.mark.parametrize("world_size", [2, 3])
def test_ranks_get_different_batches_and_the_same_count(factory, world_size):
    per_rank = [list(factory(5, rank=r, world_size=world_size)) for r in range(world_size)]
    assert len({len(b) for b in per_rank}) == 1
    single = list(factory(5))
    assert sum(len(b) for b in per_rank) >= len(single)
    # Together the ranks cover the single-process epoch (padding repeats a few batches).
    assert {tuple(b) for batches in per_rank for b in batches} == {tuple(b) for b in single}
    firsts = [tuple(b[0]) for b in per_rank]
    assert len(set(firsts)) == world_size


def test_invalid_rank():
    with pytest.raises(ValueError, match="rank=2, world_size=2"):
        RandomBatchSampler(10, batch_size=2, seed=0, rank=2, world_size=2)


@pytest.mark.parametrize("consumed", [0, 1, 5])
def test_loaded_state_yields_exactly_the_rest_of_the_epoch(factory, consumed):
    reference = factory(7)
    epoch0, epoch1, epoch2 = list(reference), list(reference), list(reference)
    interrupted = factory(7)
    list(interrupted)  # epoch 0
    iterator = iter(interrupted)
    for _ in range(consumed):
        next(iterator)
    state = interrupted.state_dict()
    assert state == {"epoch": 1, "batches_yielded": consumed}
    resumed = factory(7)
    resumed.load_state_dict(state)
    assert resumed.state_dict() == state
    assert len(resumed) == len(epoch1)  # the full epoch: Lightning counts the skipped batches as done
    assert list(resumed) == epoch1[consumed:]
    assert list(resumed) == epoch2
    assert epoch0 != epoch1


def test_state_after_a_finished_epoch_points_at_the_next_one(factory):
    sampler = factory(0)
    assert sampler.state_dict() == {"epoch": 0, "batches_yielded": 0}
    epoch0, epoch1 = list(sampler), list(sampler)
    assert sampler.state_dict() == {"epoch": 2, "batches_yielded": 0}
    resumed = factory(0)
    resumed.load_state_dict({"epoch": 0, "batches_yielded": len(epoch0)})  # saved as the epoch's last batch went out
    assert resumed.state_dict() == {"epoch": 1, "batches_yielded": 0}
    assert list(resumed) == epoch1
    sampler.set_epoch(4)
    assert sampler.state_dict() == {"epoch": 4, "batches_yielded": 0}


def test_resuming_is_per_rank(factory):
    first, resumed = factory(2, rank=1, world_size=2), factory(2, rank=1, world_size=2)
    iterator = iter(first)
    next(iterator)
    resumed.load_state_dict(first.state_dict())
    assert list(resumed) == list(iterator)


def test_negative_batches_yielded_is_refused():
    with pytest.raises(ValueError, match="batches_yielded=-1: expected >= 0"):
        RandomBatchSampler(10, batch_size=2, seed=0).load_state_dict({"epoch": 0, "batches_yielded": -1})
