from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datamodules.samplers import PKBatchSampler


def _assert_pk(batch: list[int], labels: np.ndarray, k: int) -> None:
    counts = Counter(labels[batch].tolist())
    assert sum(1 for c in counts.values() if c >= 2) >= 2
    assert all(c % k == 0 for c in counts.values())


# Built rather than filtered (filtering rejects most draws): 2-7 labels with 2-20 rows each, shuffled.
label_lists = st.lists(st.integers(2, 20), min_size=2, max_size=7).flatmap(
    lambda counts: st.permutations([label for label, count in enumerate(counts) for _ in range(count)])
)


@settings(max_examples=40, deadline=None)
@given(labels=label_lists, k=st.integers(2, 4), p=st.integers(2, 6), seed=st.integers(0, 1000))
def test_every_batch_has_two_labels_with_k_examples(labels, k, p, seed):
    labels = np.asarray(labels)
    sampler = PKBatchSampler(labels, batch_size=p * k, samples_per_label=k, seed=seed)
    for _ in range(2):
        batches = list(sampler)
        assert len(batches) == max(1, len(labels) // (p * k))
        for batch in batches:
            assert len(batch) == p * k
            _assert_pk(batch, labels, k)


@settings(max_examples=25, deadline=None)
@given(labels=label_lists, seed=st.integers(0, 1000))
def test_rows_of_a_label_are_distinct_when_the_label_has_k_rows(labels, seed):
    labels = np.asarray(labels)
    sampler = PKBatchSampler(labels, batch_size=4, samples_per_label=2, seed=seed)
    for batch in sampler:
        # P=2 distinct labels are drawn per batch whenever two exist, so each label's 2 rows are one draw.
        assert len(set(batch)) == len(batch)


@pytest.mark.parametrize(
    ("file", "column"),
    [("banking77/train.csv", "label"), ("trec/train.csv", "coarse_label"), ("trec/train.csv", "label")],
)
def test_real_label_distributions(data_dir, file, column):
    labels = pd.factorize(pd.read_csv(data_dir / file)[column])[0]
    sampler = PKBatchSampler(labels, batch_size=32, samples_per_label=4, seed=0)
    batches = list(sampler)
    assert len(batches) == len(labels) // 32
    for batch in batches:
        _assert_pk(batch, labels, 4)
    seen = {i for b in batches for i in b}
    assert len(seen) > 0.5 * len(labels)  # the per-label streams walk through the data, not a few rows


def test_small_classes_are_sampled_with_replacement():
    labels = np.array([0, 0, 1, 1, 1, 1, 1, 1])
    batch = next(iter(PKBatchSampler(labels, batch_size=8, samples_per_label=4, seed=0)))
    assert Counter(labels[batch].tolist()) == {0: 4, 1: 4}
    assert {i for i in batch if labels[i] == 0} == {0, 1}


@pytest.mark.parametrize(
    ("labels", "batch_size", "k", "match"),
    [
        ([0, 0, 1, 1], 5, 2, "not divisible by samples_per_label=2"),
        ([0, 0, 1, 1], 2, 2, "at least 2 labels per batch"),
        ([0, 0, 1, 1], 4, 1, "K >= 2"),
        ([0, 0, 0, 0], 4, 2, "at least 2 labels"),
        ([0, 0, 1, 2, 2], 4, 2, "labels with one row: \\[1\\]"),
    ],
)
def test_invalid_configurations(labels, batch_size, k, match):
    with pytest.raises(ValueError, match=match):
        PKBatchSampler(labels, batch_size=batch_size, samples_per_label=k, seed=0)
