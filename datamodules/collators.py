"""Collate rows into a :class:`TokenizedBatch`, tokenising each text column with dynamic padding."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import PreTrainedTokenizerBase

from datamodules.batch_formats import BatchFormat, LabelKind, TokenizedBatch
from datamodules.text_dataset import Example

_LABEL_DTYPES = {
    LabelKind.CLASS_ID: torch.int64,
    LabelKind.BINARY: torch.int64,
    LabelKind.SCORE: torch.float32,
    LabelKind.MARGIN: torch.float32,
}


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
        if batch_format.label_kind not in _LABEL_DTYPES and batch_format.label_kind is not LabelKind.NONE:
            raise ValueError(
                f"batch_format={batch_format.value}: file-based batches cannot carry "
                f"{batch_format.label_kind.value} labels"
            )
        self.tokenizer = tokenizer
        self.batch_format = batch_format
        self.max_seq_length = max_seq_length

    def __call__(self, examples: Sequence[Example]) -> TokenizedBatch:
        """Collate ``examples`` into one batch."""
        texts = [list(column) for column in zip(*(e.texts for e in examples), strict=True)]
        features = [
            dict(
                self.tokenizer(
                    column, padding=True, truncation=True, max_length=self.max_seq_length, return_tensors="pt"
                )
            )
            for column in texts
        ]
        kind = self.batch_format.label_kind
        labels = (
            None if kind is LabelKind.NONE else torch.tensor([e.label for e in examples], dtype=_LABEL_DTYPES[kind])
        )
        return TokenizedBatch(features=features, labels=labels, format=self.batch_format, texts=texts)
