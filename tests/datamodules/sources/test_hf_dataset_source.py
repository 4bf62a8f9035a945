"""Hugging Face datasets saved to disk read like local files; Hub ids fail clearly offline."""

import re

import datasets
import numpy as np
import pandas as pd
import pytest
from jsonargparse import ArgumentParser

from core.batch_formats import BatchFormat, TokenizedBatch
from datamodules.embedding_datamodule import EmbeddingDataModule
from datamodules.errors import DataValidationError
from datamodules.sources import HFDatasetSource
from tests.datamodules.datamodule_factory import hf_dataset_datamodule, local_file_datamodule


@pytest.fixture
def stsb_rows(data_dir):
    """Real STS-B rows: 24 for training, 12 for validation."""
    frame = pd.read_csv(data_dir / "stsb" / "dev.csv", nrows=36, dtype=str)[["sentence1", "sentence2", "score"]]
    return frame[:24].reset_index(drop=True), frame[24:].reset_index(drop=True)


@pytest.fixture
def stsb_on_disk(tmp_path, stsb_rows):
    """The rows as a ``DatasetDict`` saved to disk (numeric scores, as on the Hub), and as CSV files."""
    train, val = stsb_rows
    splits = {
        name: datasets.Dataset.from_pandas(rows.astype({"score": float}), preserve_index=False)
        for name, rows in (("train", train), ("validation", val))
    }
    directory = tmp_path / "stsb_hf"
    datasets.DatasetDict(splits).save_to_disk(str(directory))
    train.to_csv(tmp_path / "train.csv", index=False)
    val.to_csv(tmp_path / "val.csv", index=False)
    return directory


def test_saved_splits_read_like_the_same_rows_in_local_files(stsb_on_disk, tmp_path, tiny_model_dir):
    options = {"score_range": (0, 5), "normalize_scores": True, "tokenizer": str(tiny_model_dir), "batch_size": 8}
    hf = hf_dataset_datamodule(str(stsb_on_disk), "scored_pair", val_split="validation", **options)
    local = local_file_datamodule(
        str(tmp_path / "train.csv"), "scored_pair", val_file=str(tmp_path / "val.csv"), **options
    )
    for dm in (hf, local):
        dm.prepare_data()
        dm.setup("fit")
    assert (hf.train_format, hf.val_format) == (BatchFormat.SCORED_PAIR, BatchFormat.SCORED_PAIR)
    for ours, reference in ((hf.train_data, local.train_data), (hf.val_data, local.val_data)):
        assert ours.columns == reference.columns
        np.testing.assert_allclose(ours.labels, reference.labels, rtol=1e-6)
    batches = [list(dm.train_dataloader()) for dm in (hf, local)]
    assert [b.texts for b in batches[0]] == [b.texts for b in batches[1]]
    assert all(isinstance(b, TokenizedBatch) and b.format is BatchFormat.SCORED_PAIR for b in batches[0])


def test_class_labels_become_their_names(data_dir, tmp_path, tiny_model_dir):
    rows = pd.read_csv(data_dir / "trec" / "train.csv", nrows=40, dtype=str)
    names = sorted(set(rows.coarse_label), reverse=True)  # an order unlike the sorted one the reader derives
    features = datasets.Features({"text": datasets.Value("string"), "coarse": datasets.ClassLabel(names=names)})
    table = {"text": rows.sentence.tolist(), "coarse": [names.index(label) for label in rows.coarse_label]}
    datasets.Dataset.from_dict(table, features=features).save_to_disk(str(tmp_path / "trec_hf"))
    dm = hf_dataset_datamodule(
        str(tmp_path / "trec_hf"),
        "labeled",
        columns={"sentence": "text", "label": "coarse"},
        tokenizer=str(tiny_model_dir),
    )
    dm.setup("fit")
    assert [dm.label_names[i] for i in dm.train_data.labels] == rows.coarse_label.tolist()
    assert dm.train_data.columns == [rows.sentence.tolist()]


def test_same_validation_errors_as_local_files(stsb_on_disk, stsb_rows, tmp_path):
    train, _ = stsb_rows
    bad = train.astype({"score": float})
    bad.loc[5, "score"] = 7.0
    datasets.Dataset.from_pandas(bad, preserve_index=False).save_to_disk(str(tmp_path / "bad_hf"))
    bad.to_csv(tmp_path / "bad.csv", index=False)
    messages = []
    for dm in (
        hf_dataset_datamodule(str(tmp_path / "bad_hf"), "scored_pair", score_range=(0, 5)),
        local_file_datamodule(str(tmp_path / "bad.csv"), "scored_pair", score_range=(0, 5)),
    ):
        with pytest.raises(DataValidationError) as info:
            dm.setup("fit")
        messages.append(str(info.value))
    assert messages[0].startswith(f"{tmp_path / 'bad_hf'} [train], row 6, column 'score'")
    # Same row, column and expectation; only the cell's repr differs (7.0 in the dataset, '7.0' in the CSV).
    assert messages[0].split(", row ")[1].split(", got ")[0] == messages[1].split(", row ")[1].split(", got ")[0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"test_split": "test"}, "no split 'test' (test_split); available splits: ['train', 'validation']"),
        ({"columns": {"label": "similarity"}}, "column 'similarity' (field 'label' of scored_pair"),
        ({"name": "default"}, "name and revision only apply to Hub datasets"),
    ],
)
def test_configuration_errors(stsb_on_disk, kwargs, message):
    dm = hf_dataset_datamodule(str(stsb_on_disk), "scored_pair", **kwargs)
    with pytest.raises(DataValidationError, match=re.escape(message)):
        dm.prepare_data()
        dm.setup()


def test_offline_hub_id_is_refused_without_a_network_call(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("load_dataset must not be called offline")

    monkeypatch.setattr(datasets, "load_dataset", no_network)
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    dm = hf_dataset_datamodule("sentence-transformers/stsb", "scored_pair")
    with pytest.raises(DataValidationError, match="'sentence-transformers/stsb'.*offline.*save_to_disk.*go online"):
        dm.prepare_data()


def test_missing_directory_is_not_taken_for_a_hub_id(tmp_path):
    with pytest.raises(DataValidationError, match="directory not found"):
        hf_dataset_datamodule(str(tmp_path / "nope"), "pair").prepare_data()


def test_single_saved_dataset_is_the_training_split_and_found_under_data_dir(stsb_rows, tmp_path, tiny_model_dir):
    train, _ = stsb_rows
    datasets.Dataset.from_pandas(train, preserve_index=False).save_to_disk(str(tmp_path / "only_train"))
    dm = hf_dataset_datamodule("only_train", "scored_pair", data_dir=str(tmp_path), tokenizer=str(tiny_model_dir))
    dm.setup("fit")
    assert dm.train_data.columns == [train.sentence1.tolist(), train.sentence2.tolist()]
    assert dm.val_data is None and dm.val_format is None


def test_usable_from_a_cli_config(stsb_on_disk):
    parser = ArgumentParser()
    parser.add_class_arguments(EmbeddingDataModule, "data")
    config = {
        "data": {
            "source": {
                "class_path": "datamodules.sources.HFDatasetSource",
                "init_args": {"path": str(stsb_on_disk), "format": "scored_pair", "val_split": "validation"},
            }
        }
    }
    dm = parser.instantiate(parser.parse_object(config)).data
    assert isinstance(dm.source, HFDatasetSource)
    assert dm.val_format is BatchFormat.SCORED_PAIR and dm.test_format is None
