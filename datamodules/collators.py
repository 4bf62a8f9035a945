"""Collate rows into a :class:`TokenizedBatch`, tokenising each text column with dynamic padding."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor
from transformers import PreTrainedTokenizerBase

from core.batch_formats import BatchFormat, LabelKind, TokenizedBatch
from datamodules.noisy_text_dataset import NoisyExample
from datamodules.text_dataset import Example

_LABEL_DTYPES = {
    LabelKind.CLASS_ID: torch.int64,
    LabelKind.BINARY: torch.int64,
    LabelKind.SCORE: torch.float32,
    LabelKind.MARGIN: torch.float32,
    LabelKind.EMBEDDING: torch.float32,
    LabelKind.COLUMN_EMBEDDINGS: torch.float32,
    LabelKind.TEACHER_SCORES: torch.float32,
}


def tokenize_column(tokenizer: PreTrainedTokenizerBase, texts: list[str], max_seq_length: int) -> dict[str, Tensor]:
    """Tokenise one text column, padded to its longest text and truncated to ``max_seq_length`` tokens."""
    return dict(tokenizer(texts, padding=True, truncation=True, max_length=max_seq_length, return_tensors="pt"))


class TokenizingCollator:
    """Tokenise a list of rows per column (padding to the longest text in the batch).

    Tokenising here, in the DataLoader workers, keeps the dataset plain text and pads each batch only
    as far as its own longest text.

    Args:
        tokenizer: A (fast) Hugging Face tokenizer.
        batch_format: Format of the rows; decides the label dtype.
        max_seq_length: Truncation length in tokens.
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase, batch_format: BatchFormat, max_seq_length: int) -> None:
        self.tokenizer = tokenizer
        self.batch_format = batch_format
        self.max_seq_length = max_seq_length

    def __call__(self, examples: Sequence[Example]) -> TokenizedBatch:
        """Collate ``examples`` into one batch."""
        texts = [list(column) for column in zip(*(e.texts for e in examples), strict=True)]
        features = [tokenize_column(self.tokenizer, column, self.max_seq_length) for column in texts]
        kind = self.batch_format.label_kind
        labels = (
            None
            if kind is LabelKind.NONE
            # np.asarray first: stacks the (D,) / (C, D) / (C - 1,) teacher labels of distilled rows in one copy.
            else torch.as_tensor(np.asarray([e.label for e in examples]), dtype=_LABEL_DTYPES[kind])
        )
        return TokenizedBatch(features=features, labels=labels, format=self.batch_format, texts=texts)


class DenoisingCollator:
    """Collate :class:`~datamodules.noisy_text_dataset.NoisyExample` rows into single-sentence batches.

    The *noisy* sentences are tokenised as the batch's single column (the encoder's input); the
    *original* sentences are kept in ``texts[0]`` (the decoder targets of
    :class:`~lightning_modules.losses.denoising_auto_encoder.DenoisingAutoEncoderLoss`).

    Args:
        tokenizer: A (fast) Hugging Face tokenizer.
        max_seq_length: Truncation length in tokens.
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase, max_seq_length: int) -> None:
        self.tokenizer = tokenizer
        self.max_seq_length = max_seq_length

    def __call__(self, examples: Sequence[NoisyExample]) -> TokenizedBatch:
        """Collate ``examples`` into one batch."""
        features = tokenize_column(self.tokenizer, [e.noisy for e in examples], self.max_seq_length)
        return TokenizedBatch(
            features=[features], labels=None, format=BatchFormat.SINGLE, texts=[[e.original for e in examples]]
        )
