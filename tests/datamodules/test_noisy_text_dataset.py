import numpy as np
import pytest

from core.batch_formats import BatchFormat
from datamodules.noisy_text_dataset import NoisyTextDataset, delete_tokens
from datamodules.text_dataset import TextDataset

LONG = " ".join(f"w{i}" for i in range(40))
SINGLES = TextDataset(BatchFormat.SINGLE, [[LONG, "one", "two words", ""]], None, name="singles")


def _is_subsequence(kept: list[str], words: list[str]) -> bool:
    remaining = iter(words)
    return all(word in remaining for word in kept)


@pytest.mark.parametrize("ratio", [0.0, 0.3, 0.6, 0.95])
def test_deletion_keeps_an_ordered_nonempty_subset_of_the_words(ratio):
    rng = np.random.default_rng(0)
    for _ in range(50):
        kept = delete_tokens(LONG, ratio, rng).split()
        assert kept and _is_subsequence(kept, LONG.split())
    assert delete_tokens(LONG, 0.0, rng) == LONG


def test_deletion_rate_matches_the_ratio():
    rng = np.random.default_rng(0)
    kept = sum(len(delete_tokens(LONG, 0.6, rng).split()) for _ in range(500))
    # Each word survives with probability 0.4: 20,000 Bernoulli draws keep 8,000 +- ~70 (1 sd).
    assert abs(kept / (500 * 40) - 0.4) < 0.02


def test_at_least_one_word_survives_and_empty_text_stays():
    rng = np.random.default_rng(0)
    assert all(len(delete_tokens("a b c", 0.999, rng).split()) == 1 for _ in range(20))
    assert delete_tokens("", 0.6, rng) == ""


def test_noise_depends_only_on_seed_epoch_and_row():
    first, second = NoisyTextDataset(SINGLES, 0.6, seed=3), NoisyTextDataset(SINGLES, 0.6, seed=3)
    assert [first[(1, row)] for row in range(4)] == [second[(1, row)] for row in range(4)]
    assert first[(0, 0)].original == LONG
    assert first[(0, 0)].noisy != first[(1, 0)].noisy  # new noise every epoch
    assert first[(0, 0)].noisy != NoisyTextDataset(SINGLES, 0.6, seed=4)[(0, 0)].noisy


def test_refuses_multi_column_rows_and_bad_ratios():
    pairs = TextDataset(BatchFormat.PAIR, [["a"], ["b"]], None, name="pairs")
    with pytest.raises(ValueError, match="needs single sentences"):
        NoisyTextDataset(pairs, 0.6, 0)
    for ratio in (-0.1, 1.0):
        with pytest.raises(ValueError, match=f"deletion_ratio={ratio}"):
            NoisyTextDataset(SINGLES, ratio, 0)
