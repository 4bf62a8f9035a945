from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from datamodules.samplers import NoDuplicatesBatchSampler

# Few distinct texts so that collisions are frequent.
rows = st.lists(st.tuples(st.sampled_from("abcdefgh"), st.sampled_from("ijklmnopq")), min_size=1, max_size=80)


@settings(max_examples=50, deadline=None)
@given(row_texts=rows, batch_size=st.integers(1, 8), seed=st.integers(0, 1000))
def test_no_text_twice_in_a_batch_and_every_row_once(row_texts, batch_size, seed):
    sampler = NoDuplicatesBatchSampler(row_texts, batch_size=batch_size, seed=seed)
    batches = list(sampler)
    for batch in batches:
        texts = [t for i in batch for t in row_texts[i]]
        assert len(texts) == len(set(texts))
        assert 1 <= len(batch) <= batch_size
    assert sorted(i for b in batches for i in b) == list(range(len(row_texts)))


def test_conflicting_rows_are_deferred_not_dropped():
    row_texts = [("q", f"p{i}") for i in range(5)]  # every row shares the anchor "q"
    batches = list(NoDuplicatesBatchSampler(row_texts, batch_size=4, seed=0))
    assert len(batches) == 5
    assert Counter(len(b) for b in batches) == {1: 5}


def test_distinct_rows_fill_full_batches():
    row_texts = [(f"a{i}", f"b{i}") for i in range(10)]
    assert [len(b) for b in NoDuplicatesBatchSampler(row_texts, batch_size=4, seed=0)] == [4, 4, 2]
