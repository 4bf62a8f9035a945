import pytest
import torch
from transformers import AutoTokenizer

from datamodules.batch_formats import BatchFormat, LabelKind
from datamodules.collators import TokenizingCollator
from datamodules.text_dataset import Example


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    return AutoTokenizer.from_pretrained(str(tiny_model_dir))


@pytest.mark.parametrize(
    ("fmt", "label", "dtype"),
    [
        (BatchFormat.SCORED_PAIR, 3.5, torch.float32),
        (BatchFormat.BINARY_PAIR, 1, torch.int64),
        (BatchFormat.LABELED, 4, torch.int64),
        (BatchFormat.TRIPLET, None, None),
    ],
)
def test_columns_are_tokenised_like_the_tokenizer_itself(tokenizer, fmt, label, dtype):
    rows = [Example(tuple(f"{c} number {i} " + "word " * i for c in fmt.columns), label) for i in range(3)]
    batch = TokenizingCollator(tokenizer, fmt, max_seq_length=6)(rows)
    assert batch.format is fmt
    assert batch.texts == [[r.texts[c] for r in rows] for c in range(len(fmt.columns))]
    for features, texts in zip(batch.features, batch.texts, strict=True):
        expected = tokenizer(texts, padding=True, truncation=True, max_length=6, return_tensors="pt")
        assert features.keys() == expected.keys()
        for key in features:
            assert torch.equal(features[key], expected[key])
    if fmt.label_kind is LabelKind.NONE:
        assert batch.labels is None
    else:
        assert batch.labels.dtype == dtype and batch.labels.tolist() == [label] * 3


def test_dynamic_padding_pads_to_the_longest_text_only(tokenizer):
    batch = TokenizingCollator(tokenizer, BatchFormat.SINGLE, max_seq_length=128)([Example(("a b c",), None)] * 2)
    assert batch.features[0]["input_ids"].shape == (2, 5)  # [CLS] a b c [SEP]
