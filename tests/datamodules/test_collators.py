import numpy as np
import pytest
import torch
from transformers import AutoTokenizer

from core.batch_formats import BatchFormat, LabelKind
from datamodules.collators import DenoisingCollator, TokenizingCollator
from datamodules.noisy_text_dataset import NoisyExample
from datamodules.text_dataset import Example, TextDataset


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


@pytest.mark.parametrize(
    ("fmt", "labels"),
    [
        (BatchFormat.DISTILLATION, np.arange(12, dtype=np.float32).reshape(3, 4)),
        (BatchFormat.MARGIN_TRIPLET, np.array([0.5, -1.0, 2.0], dtype=np.float32)),
    ],
)
def test_teacher_labels_become_float_tensors(tokenizer, fmt, labels):
    data = TextDataset(fmt, [[f"{c} {i}" for i in range(3)] for c in fmt.columns], labels)
    batch = TokenizingCollator(tokenizer, fmt, max_seq_length=8)([data[i] for i in range(3)])
    assert batch.labels.dtype == torch.float32
    assert torch.equal(batch.labels, torch.from_numpy(labels))


def test_denoising_collator_tokenises_the_noisy_text_and_keeps_the_original(tokenizer):
    rows = [NoisyExample("dog runs", "the dog runs fast"), NoisyExample("cat", "a cat sleeps")]
    batch = DenoisingCollator(tokenizer, max_seq_length=8)(rows)
    assert (batch.format, batch.labels) == (BatchFormat.SINGLE, None)
    assert batch.texts == [["the dog runs fast", "a cat sleeps"]]
    expected = tokenizer(["dog runs", "cat"], padding=True, truncation=True, max_length=8, return_tensors="pt")
    assert len(batch.features) == 1
    assert torch.equal(batch.features[0]["input_ids"], expected["input_ids"])
