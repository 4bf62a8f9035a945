"""Single sentences with TSDAE's token-deletion noise, drawn afresh every epoch."""

from __future__ import annotations

from typing import Literal, NamedTuple, get_args

import numpy as np
from torch.utils.data import Dataset

from core.batch_formats import BatchFormat
from datamodules.source_format import describe_source
from datamodules.text_dataset import TextDataset

NoiseName = Literal["token_deletion"]


class NoisyExample(NamedTuple):
    """One training row of a denoising loss: the noisy input and the original (the decoder target)."""

    noisy: str
    original: str


def check_deletion_ratio(deletion_ratio: float) -> None:
    """Raise a ``ValueError`` unless ``deletion_ratio`` lies in [0, 1)."""
    if not 0.0 <= deletion_ratio < 1.0:
        raise ValueError(f"deletion_ratio={deletion_ratio}: expected a fraction of words to delete in [0, 1)")


def check_noise(noise: str | None, deletion_ratio: float, train_format: BatchFormat, description: str) -> None:
    """Refuse an unknown noise, noise on rows that are not single sentences, or a bad deletion ratio.

    Args:
        noise: The DataModule's ``noise`` option.
        deletion_ratio: Fraction of words deleted.
        train_format: Format of the training rows after conversion.
        description: The data, as named in the error.
    """
    if noise is None:
        return
    if noise not in get_args(NoiseName):
        raise ValueError(f"noise={noise!r} is unknown; expected None or one of {list(get_args(NoiseName))}")
    if train_format is not BatchFormat.SINGLE:
        raise ValueError(
            f"noise={noise!r} needs single-sentence training rows (TSDAE), but {description} "
            f"gives {describe_source(train_format)}; set conversion to pairs_to_singles or labels_to_singles"
        )
    check_deletion_ratio(deletion_ratio)


def delete_tokens(text: str, deletion_ratio: float, rng: np.random.Generator) -> str:
    """Delete each word of ``text`` with probability ``deletion_ratio``, keeping at least one word.

    As sentence-transformers' ``DenoisingAutoEncoderDataset.delete``, except that words are split on
    whitespace (punctuation stays attached) instead of with NLTK, which losslab does not depend on.

    Args:
        text: The sentence.
        deletion_ratio: Probability of deleting each word.
        rng: Source of randomness.

    Returns:
        The kept words joined by single spaces (``text`` itself when it has no word).
    """
    words = text.split()
    if not words:
        return text
    keep = rng.random(len(words)) > deletion_ratio
    if not keep.any():
        keep[rng.integers(len(words))] = True
    return " ".join(word for word, kept in zip(words, keep, strict=True) if kept)


class NoisyTextDataset(Dataset):
    """Serves single sentences with token-deletion noise, keyed by ``(epoch, row)``.

    The noise of a row depends only on ``(seed, epoch, row)``: every epoch draws new noise, and a run is
    reproducible whatever the number of DataLoader workers. Index it through
    :class:`~datamodules.samplers.EpochTaggedBatchSampler`, which yields such keys.

    Args:
        sentences: Single-sentence rows.
        deletion_ratio: Probability of deleting each word (TSDAE: 0.6).
        seed: Base seed of the noise.
    """

    def __init__(self, sentences: TextDataset, deletion_ratio: float, seed: int) -> None:
        if sentences.format is not BatchFormat.SINGLE:
            raise ValueError(f"{sentences.name}: token-deletion noise needs single sentences, got {sentences.format}")
        check_deletion_ratio(deletion_ratio)
        self.sentences = sentences
        self.deletion_ratio = deletion_ratio
        self.seed = seed

    def __len__(self) -> int:
        return len(self.sentences)

    def __getitem__(self, key: tuple[int, int]) -> NoisyExample:
        epoch, row = key
        original = self.sentences.columns[0][row]
        rng = np.random.default_rng([self.seed, epoch, row])
        return NoisyExample(delete_tokens(original, self.deletion_ratio, rng), original)
