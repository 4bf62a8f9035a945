from collections import Counter
from typing import get_args

import numpy as np
import pytest
import torch

from core.batch_formats import BatchFormat
from datamodules.conversion import CONVERSIONS, ConversionName, get_conversion
from datamodules.errors import DataValidationError
from datamodules.row_conversions import CONTRASTIVE_TENSION_POS_NEG_RATIO
from datamodules.source_format import NLI
from datamodules.teacher_embeddings import TeacherEmbeddings
from datamodules.text_dataset import TextDataset
from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.encoders.teacher_encoder import TeacherEncoder

LABELED = TextDataset(
    BatchFormat.LABELED,
    [[f"{name}{i}" for name in "abc" for i in range(4)] + ["lonely"]],
    np.array([0] * 4 + [1] * 4 + [2] * 4 + [3]),
    ["a", "b", "c", "d"],
    name="labeled",
)
SCORED = TextDataset(BatchFormat.SCORED_PAIR, [["x", "y", "z"], ["X", "Y", "Z"]], np.array([0.5, 3.0, 4.5], np.float32))
NLI_ROWS = TextDataset(
    NLI,
    [["p1", "p1", "p1", "p1", "p2", "p2", "p3"], ["e1", "e2", "c1", "n1", "e3", "n2", "c3"]],
    np.array([0, 0, 2, 1, 0, 1, 2]),
    ["entailment", "neutral", "contradiction"],
)


def test_registry_matches_the_config_names():
    assert set(CONVERSIONS) == set(get_args(ConversionName))


def test_labels_to_triplets():
    out = get_conversion("labels_to_triplets").apply(LABELED, seed=0)
    assert out.format is BatchFormat.TRIPLET
    label_of = dict(zip(LABELED.columns[0], LABELED.labels.tolist(), strict=True))
    assert len(out) == 12  # the single-example class has no positive
    for anchor, positive, negative in out.row_texts():
        assert anchor != positive and label_of[anchor] == label_of[positive] != label_of[negative]


def test_labels_to_hard_triplets_take_the_most_similar_other_label_row(tiny_model_dir, tmp_path, monkeypatch):
    teacher = TeacherEmbeddings(TeacherEncoder(str(tiny_model_dir), max_seq_length=32), str(tmp_path))
    conversion = get_conversion("labels_to_hard_triplets")
    out = conversion.apply(LABELED, seed=0, teacher=teacher)
    assert out.format is BatchFormat.TRIPLET and len(out) == 12  # the single-example class has no positive
    # Reference: cosine similarities of an independently loaded teacher, same-label rows excluded.
    texts = LABELED.columns[0]
    embeddings = HFEncoder(str(tiny_model_dir), max_seq_length=32).eval().encode(texts)
    similarity = torch.nn.functional.cosine_similarity(embeddings[:, None], embeddings[None, :], dim=-1)
    same = torch.from_numpy(LABELED.labels[:, None] == LABELED.labels[None, :])
    hardest = similarity.masked_fill(same, float("-inf")).argmax(dim=1)
    label_of = dict(zip(texts, LABELED.labels.tolist(), strict=True))
    for anchor, positive, negative in out.row_texts():
        assert anchor != positive and label_of[anchor] == label_of[positive] != label_of[negative]
        assert negative == texts[hardest[texts.index(anchor)]]
    # Same positives as the random-negative version; seeded; the cached embeddings are reused.
    assert out.columns[:2] == get_conversion("labels_to_triplets").apply(LABELED, seed=0).columns[:2]
    monkeypatch.setattr(HFEncoder, "encode", lambda *args, **kwargs: pytest.fail("cache not reused"))
    assert conversion.apply(LABELED, seed=0, teacher=teacher).columns == out.columns
    assert conversion.apply(LABELED, seed=1, teacher=teacher).columns[1] != out.columns[1]
    with pytest.raises(ValueError, match="conversion='labels_to_hard_triplets' needs a teacher"):
        conversion.apply(LABELED, seed=0)


def test_labels_to_binary_pairs_are_balanced():
    out = get_conversion("labels_to_binary_pairs").apply(LABELED, seed=0)
    label_of = dict(zip(LABELED.columns[0], LABELED.labels.tolist(), strict=True))
    assert Counter(out.labels.tolist()) == {1: 12, 0: 13}
    for (first, second), same in zip(out.row_texts(), out.labels.tolist(), strict=True):
        assert (label_of[first] == label_of[second]) == bool(same)


def test_conversions_are_seeded():
    conversion = get_conversion("labels_to_triplets")
    assert conversion.apply(LABELED, 1).columns == conversion.apply(LABELED, 1).columns
    assert conversion.apply(LABELED, 1).columns != conversion.apply(LABELED, 2).columns


def test_scored_conversions_use_the_raw_threshold():
    binary = get_conversion("scored_to_binary_pairs").apply(SCORED, 0, threshold=3.0)
    assert (binary.format, binary.labels.tolist()) == (BatchFormat.BINARY_PAIR, [0, 1, 1])
    positive = get_conversion("scored_to_positive_pairs").apply(SCORED, 0, threshold=4.0)
    assert (positive.format, positive.columns) == (BatchFormat.PAIR, [["z"], ["Z"]])
    with pytest.raises(ValueError, match="needs score_threshold"):
        get_conversion("scored_to_binary_pairs").apply(SCORED, 0)


def test_nli_conversions():
    triplets = get_conversion("nli_to_triplets").apply(NLI_ROWS, 0)
    assert triplets.row_texts() == [("p1", "e1", "c1"), ("p1", "e2", "c1")]
    pairs = get_conversion("nli_to_positive_pairs").apply(NLI_ROWS, 0)
    assert pairs.row_texts() == [("p1", "e1"), ("p1", "e2"), ("p2", "e3")]


def test_pairs_to_singles():
    out = get_conversion("pairs_to_singles").apply(NLI_ROWS, 0)
    assert out.format is BatchFormat.SINGLE
    assert out.columns == [["p1", "e1", "e2", "c1", "n1", "p2", "e3", "n2", "p3", "c3"]]


def test_labels_to_singles_drops_labels():
    out = get_conversion("labels_to_singles").apply(LABELED, 0)
    assert (out.format, out.labels, out.columns) == (BatchFormat.SINGLE, None, LABELED.columns)
    with pytest.raises(ValueError, match="cannot read scored_pair"):
        get_conversion("labels_to_singles").apply(SCORED, 0)


@pytest.mark.parametrize("rows", [LABELED, SCORED, NLI_ROWS], ids=lambda rows: str(rows.format))
def test_contrastive_tension_pairs_follow_sentence_transformers(rows):
    conversion = get_conversion("sentences_to_contrastive_tension_pairs")
    out = conversion.apply(rows, seed=0)
    texts = {text for row in rows.row_texts() for text in row}
    assert out.format is BatchFormat.BINARY_PAIR
    # ContrastiveTensionDataLoader: pair k is a sentence with itself iff k % 8 == 0, else with the next sentence.
    expected = [int(k % CONTRASTIVE_TENSION_POS_NEG_RATIO == 0) for k in range(len(out))]
    assert out.labels.tolist() == expected
    used = []
    for (first, second), label in zip(out.row_texts(), out.labels.tolist(), strict=True):
        assert (first == second) == bool(label)
        used += [first] if label else [first, second]
    assert len(used) == len(set(used)) and set(used) <= texts  # every text used at most once
    assert len(texts) - len(used) <= 1  # only the last text can be left over
    assert conversion.apply(rows, seed=0).columns == out.columns
    assert conversion.apply(rows, seed=1).columns != out.columns


def test_wrong_input_format_and_empty_result():
    with pytest.raises(ValueError, match="conversion='nli_to_triplets' cannot read labeled"):
        get_conversion("nli_to_triplets").apply(LABELED, 0)
    with pytest.raises(DataValidationError, match="produced no rows"):
        get_conversion("scored_to_positive_pairs").apply(SCORED, 0, threshold=5.0)
    with pytest.raises(ValueError, match="conversion='x' is unknown"):
        get_conversion("x")
