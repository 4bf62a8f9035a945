from datamodules.samplers import EpochTaggedBatchSampler, RandomBatchSampler


def test_tags_every_row_with_the_epoch_it_is_drawn_in():
    tagged = EpochTaggedBatchSampler(RandomBatchSampler(10, batch_size=4, seed=0))
    plain = RandomBatchSampler(10, batch_size=4, seed=0)
    for epoch in range(2):
        batches = list(tagged)
        assert batches == [[(epoch, row) for row in batch] for batch in plain]
    assert len(tagged) == len(plain) == 3


def test_set_epoch_reaches_the_wrapped_sampler():
    tagged = EpochTaggedBatchSampler(RandomBatchSampler(10, batch_size=4, seed=0))
    tagged.set_epoch(5)
    plain = RandomBatchSampler(10, batch_size=4, seed=0)
    plain.set_epoch(5)
    assert list(tagged) == [[(5, row) for row in batch] for batch in plain]


def test_resumed_wrapped_sampler_keeps_the_epoch_tags():
    plain = RandomBatchSampler(10, batch_size=4, seed=0)
    full = list(plain)
    resumed = RandomBatchSampler(10, batch_size=4, seed=0)
    resumed.load_state_dict({"epoch": 0, "batches_yielded": 1})
    assert list(EpochTaggedBatchSampler(resumed)) == [[(0, row) for row in batch] for batch in full[1:]]
