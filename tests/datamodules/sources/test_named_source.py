from collections import Counter
from typing import get_args

import pandas as pd
import pytest

from core.batch_formats import BatchFormat, LabelKind, TokenizedBatch
from datamodules.dataset_catalog import CATALOG, DatasetName
from tests.datamodules.datamodule_factory import named_datamodule

EXPECTED = {  # name -> (conversion, train format, val format, training columns read from the raw file)
    "stsb": (
        None,
        BatchFormat.SCORED_PAIR,
        BatchFormat.SCORED_PAIR,
        ("stsb/train.csv", ["sentence1", "sentence2"]),
    ),
    "snli_triplets": (
        None,
        BatchFormat.TRIPLET,
        BatchFormat.TRIPLET,
        ("snli/dev_triplets.csv", ["anchor", "positive", "negative"]),
    ),
    "banking77": (None, BatchFormat.LABELED, BatchFormat.LABELED, ("banking77/train.csv", ["sentence"])),
    "sick": (
        None,
        BatchFormat.SCORED_PAIR,
        BatchFormat.SCORED_PAIR,
        ("sick/train.csv", ["sentence1", "sentence2"]),
    ),
    "trec": (None, BatchFormat.LABELED, BatchFormat.LABELED, ("trec/train.csv", ["sentence"])),
    "trec_fine": (None, BatchFormat.LABELED, BatchFormat.LABELED, ("trec/train.csv", ["sentence"])),
    "msrp": (
        None,
        BatchFormat.BINARY_PAIR,
        BatchFormat.BINARY_PAIR,
        ("msrp/train.csv", ["sentence1", "sentence2"]),
    ),
    "snli_pairs": ("nli_to_triplets", BatchFormat.TRIPLET, BatchFormat.TRIPLET, None),
}


def test_catalog_and_names_agree():
    assert set(CATALOG) == set(get_args(DatasetName)) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_dataset_yields_tokenized_batches(name, data_dir, tiny_model_dir):
    conversion, train_format, val_format, raw = EXPECTED[name]
    dm = named_datamodule(
        name, conversion=conversion, tokenizer=str(tiny_model_dir), data_dir=str(data_dir), batch_size=8
    )
    assert (dm.train_format, dm.val_format) == (train_format, val_format)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert isinstance(batch, TokenizedBatch) and batch.format is train_format
    assert len(batch.features) == len(train_format.columns) == len(batch.texts)
    for feature, texts in zip(batch.features, batch.texts, strict=True):
        assert feature["input_ids"].shape[0] == len(texts) == 8
        assert feature["attention_mask"].sum(1).max() == feature["input_ids"].shape[1]  # padded to the longest
    assert (batch.labels is None) == (train_format.label_kind is LabelKind.NONE)
    val_batch = next(iter(dm.val_dataloader()))
    assert val_batch.format is val_format
    if raw is not None:
        file, columns = raw
        frame = pd.read_csv(data_dir / file, dtype=str, keep_default_na=False)
        rows = set(zip(*(frame[c] for c in columns), strict=True))
        assert all(row in rows for row in zip(*batch.texts, strict=True))


def test_stsb_scores_are_raw(data_dir, tiny_model_dir):
    dm = named_datamodule("stsb", tokenizer=str(tiny_model_dir), data_dir=str(data_dir))
    dm.setup("fit")
    raw = pd.read_csv(data_dir / "stsb/train.csv")["score"].to_numpy()
    assert dm.train_data.labels.tolist() == pytest.approx(raw.tolist())


def test_banking77_val_is_a_stratified_tenth_of_train_and_test_is_untouched(data_dir, tiny_model_dir):
    dm = named_datamodule("banking77", tokenizer=str(tiny_model_dir), data_dir=str(data_dir))
    dm.setup()
    train = pd.read_csv(data_dir / "banking77/train.csv")
    assert len(dm.train_data) + len(dm.val_data) == len(train)
    assert not set(dm.train_data.columns[0]) & set(dm.val_data.columns[0])
    expected = {label: round(n * 0.1) for label, n in Counter(train["label"]).items()}
    names = dm.label_names
    assert Counter(names[i] for i in dm.val_data.labels.tolist()) == expected
    assert len(dm.test_data) == len(pd.read_csv(data_dir / "banking77/test.csv"))


def test_snli_pairs_need_a_conversion():
    with pytest.raises(ValueError, match="set conversion.name to nli_to_triplets"):
        named_datamodule("snli_pairs")


def test_unknown_name():
    with pytest.raises(ValueError, match="name='quora' is not a built-in dataset"):
        named_datamodule("quora")
