from collections import Counter

import numpy as np
import pytest

from core.batch_formats import BatchFormat
from datamodules.splits import split_off
from datamodules.text_dataset import TextDataset


def _labeled(labels):
    return TextDataset(
        BatchFormat.LABELED, [[f"s{i}" for i in range(len(labels))]], np.asarray(labels), ["a", "b", "c"]
    )


def test_stratified_split_keeps_proportions_and_is_seeded():
    data = _labeled([0] * 50 + [1] * 30 + [2] * 20)
    train, val = split_off(data, 0.1, seed=1)
    assert Counter(val.labels.tolist()) == {0: 5, 1: 3, 2: 2}
    assert sorted(train.columns[0] + val.columns[0]) == sorted(data.columns[0])
    assert split_off(data, 0.1, seed=1)[1].columns == val.columns
    assert split_off(data, 0.1, seed=2)[1].columns != val.columns


def test_every_class_keeps_a_training_row():
    train, val = split_off(_labeled([0, 1, 1, 1]), 0.5, seed=0)
    assert set(train.labels.tolist()) == {0, 1}


def test_unlabeled_split():
    data = TextDataset(BatchFormat.PAIR, [[str(i) for i in range(10)], [str(-i) for i in range(10)]], None)
    train, val = split_off(data, 0.3, seed=0)
    assert (len(train), len(val)) == (7, 3)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1])
def test_invalid_fraction(fraction):
    with pytest.raises(ValueError, match="val_split"):
        split_off(_labeled([0, 1]), fraction, seed=0)
