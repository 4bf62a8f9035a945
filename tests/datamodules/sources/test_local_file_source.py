import numpy as np
import pandas as pd
import pytest
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from jsonargparse import ArgumentParser

from core.batch_formats import BatchFormat, BatchSampling, TokenizedBatch
from datamodules.embedding_datamodule import EmbeddingDataModule
from datamodules.errors import DataValidationError
from datamodules.samplers import NoDuplicatesBatchSampler, PKBatchSampler, RandomBatchSampler
from datamodules.sources import LocalFileSource
from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.losses.base import EmbeddingLoss
from lightning_modules.losses.multiple_negatives_ranking import MultipleNegativesRankingLoss
from tests.datamodules.datamodule_factory import local_file_datamodule


class PKLoss(EmbeddingLoss):
    accepts = frozenset({BatchFormat.LABELED})
    sampling = BatchSampling.PK


class InBatchLoss(EmbeddingLoss):
    accepts = frozenset({BatchFormat.PAIR, BatchFormat.TRIPLET})
    sampling = BatchSampling.NO_DUPLICATES


class AnyLabeledLoss(EmbeddingLoss):
    accepts = frozenset({BatchFormat.LABELED})
    sampling = BatchSampling.RANDOM


def _labeled_file(tmp_path, labels, name="train.csv"):
    path = tmp_path / name
    path.write_text("sentence,label\n" + "".join(f"text {i},{lab}\n" for i, lab in enumerate(labels)))
    return path


@pytest.fixture
def labeled(tmp_path, tiny_model_dir):
    def make(labels=("a", "b") * 8, **kwargs):
        path = _labeled_file(tmp_path, labels)
        return local_file_datamodule(str(path), "labeled", tokenizer=str(tiny_model_dir), batch_size=4, **kwargs)

    return make


@pytest.mark.parametrize(("loss", "sampler_cls"), [(PKLoss(), PKBatchSampler), (AnyLabeledLoss(), RandomBatchSampler)])
def test_auto_sampler_follows_the_loss(labeled, loss, sampler_cls):
    dm = labeled()
    dm.bind_loss(loss)
    assert type(loss).__name__ in dm.sampler_choice
    dm.setup("fit")
    assert isinstance(dm.train_dataloader().batch_sampler, sampler_cls)


def test_no_duplicates_sampler_for_in_batch_negative_losses(tmp_path, tiny_model_dir):
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(f'{{"anchor": "q{i % 3}", "positive": "p{i}"}}\n' for i in range(12)))
    dm = local_file_datamodule(str(path), "pair", tokenizer=str(tiny_model_dir), batch_size=4)
    dm.bind_loss(InBatchLoss())
    dm.setup("fit")
    loader = dm.train_dataloader()
    assert isinstance(loader.batch_sampler, NoDuplicatesBatchSampler)
    for batch in loader:
        assert len(set(batch.texts[0])) == len(batch)


def test_loss_format_mismatch_names_loss_data_and_accepted_formats(labeled):
    with pytest.raises(
        ValueError, match=r"data EmbeddingDataModule\(train.csv\).*InBatchLoss cannot train on labeled.*pair"
    ):
        labeled().bind_loss(InBatchLoss())


@pytest.mark.parametrize("sampler", ["random", "no_duplicates"])
def test_explicit_sampler_contradicting_the_loss_is_refused(labeled, sampler):
    with pytest.raises(ValueError, match=f"sampler='{sampler}' cannot serve PKLoss"):
        labeled(sampler=sampler).bind_loss(PKLoss())


def test_explicit_sampler_accepted_by_a_random_loss(labeled):
    dm = labeled(sampler="pk")
    dm.bind_loss(AnyLabeledLoss())
    assert dm.sampler_choice.startswith("pk sampler")


@pytest.mark.parametrize(
    ("labels", "kwargs", "error", "match"),
    [
        (
            ("a", "b") * 8,
            {"batch_size": 5},
            ValueError,
            "batch_size=5 is not divisible by samples_per_label=2",
        ),
        (("a",) * 8, {}, DataValidationError, "needs at least 2 classes, found 1"),
        (("a", "b") * 4 + ("c",), {}, DataValidationError, "row 9: 1 class\\(es\\) have a single example"),
    ],
)
def test_pk_data_errors(tmp_path, tiny_model_dir, labels, kwargs, error, match):
    path = _labeled_file(tmp_path, labels)
    with pytest.raises(error, match=match):
        dm = local_file_datamodule(str(path), "labeled", tokenizer=str(tiny_model_dir), **{"batch_size": 4, **kwargs})
        dm.bind_loss(PKLoss())
        dm.setup("fit")


def test_pk_needs_class_labels(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("anchor,positive,negative\na,b,c\n")
    with pytest.raises(ValueError, match="P×K sampling needs class labels"):
        local_file_datamodule(str(path), "triplet", sampler="pk")


def test_data_dir_is_required_for_relative_paths(monkeypatch):
    monkeypatch.delenv("LOSSLAB_DATA_DIR", raising=False)
    dm = local_file_datamodule("stsb/train.csv", "scored_pair")
    with pytest.raises(DataValidationError, match="pass data_dir .* or set the environment variable LOSSLAB_DATA_DIR"):
        dm.prepare_data()


def test_relative_paths_use_data_dir(data_dir, tiny_model_dir):
    dm = local_file_datamodule(
        "stsb/dev.csv",
        "scored_pair",
        score_range=(0, 5),
        tokenizer=str(tiny_model_dir),
        data_dir=str(data_dir),
    )
    dm.prepare_data()
    dm.setup("fit")
    assert len(dm.train_data) == 1500


def test_unknown_format_and_nli_without_conversion():
    with pytest.raises(ValueError, match="format='scored' is not a known data format"):
        local_file_datamodule("x.csv", "scored")
    with pytest.raises(ValueError, match="set conversion.name to nli_to_triplets or nli_to_positive_pairs"):
        local_file_datamodule("x.csv", "nli")


def test_normalize_scores_maps_the_declared_range(tmp_path, tiny_model_dir):
    path = tmp_path / "s.csv"
    path.write_text("sentence1,sentence2,score\na,b,1\nc,d,5\ne,f,3\n")
    dm = local_file_datamodule(
        str(path),
        "scored_pair",
        val_file=str(path),
        score_range=(1, 5),
        normalize_scores=True,
        tokenizer=str(tiny_model_dir),
    )
    dm.setup("fit")
    np.testing.assert_allclose(dm.train_data.labels, [0.0, 1.0, 0.5])
    np.testing.assert_allclose(dm.val_data.labels, [0.0, 1.0, 0.5])
    with pytest.raises(ValueError, match="normalize_scores=True needs the source.s score_range"):
        local_file_datamodule(str(path), "scored_pair", normalize_scores=True)


def test_val_split_and_eval_loader_keep_order_and_all_rows(labeled):
    dm = labeled(labels=("a", "b", "c") * 20, val_fraction=0.25, eval_batch_size=7)
    dm.setup("fit")
    assert dm.val_format is BatchFormat.LABELED
    assert (len(dm.train_data), len(dm.val_data)) == (45, 15)
    batches = list(dm.val_dataloader())
    assert [t for b in batches for t in b.texts[0]] == dm.val_data.columns[0]
    assert [len(b) for b in batches] == [7, 7, 1]
    assert dm.test_format is None and dm.test_dataloader() == []


def test_conversion_changes_train_format_but_not_val(labeled):
    dm = labeled(labels=("a", "b") * 10, val_fraction=0.2, conversion="labels_to_triplets")
    assert dm.train_format is BatchFormat.TRIPLET
    assert dm.val_format is BatchFormat.LABELED
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert isinstance(batch, TokenizedBatch) and len(batch.features) == 3 and batch.labels is None


def test_usable_from_a_cli_config(tmp_path, tiny_model_dir):
    parser = ArgumentParser()
    parser.add_class_arguments(EmbeddingDataModule, "data")
    config = {
        "data": {
            "source": {
                "class_path": "datamodules.sources.LocalFileSource",
                "init_args": {"train_file": "t.csv", "format": "scored_pair", "score_range": [0, 5]},
            },
            "batching": {"sampler": "random"},
        }
    }
    dm = parser.instantiate(parser.parse_object(config)).data
    assert isinstance(dm.source, LocalFileSource)
    assert dm.train_format is BatchFormat.SCORED_PAIR
    assert dm.source.train_schema.score_range == (0.0, 5.0)


class _RecordingModule(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.first_rows: list[list[str]] = []

    def training_step(self, batch, batch_idx):
        if batch_idx == 0:
            self.first_rows.append(batch.texts[0])
        return self.weight.sum() * len(batch)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def transfer_batch_to_device(self, batch, device, dataloader_idx):
        return batch.to(device)


def _fit(dm, epochs):
    module = _RecordingModule()
    trainer = pl.Trainer(
        max_epochs=epochs,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        limit_val_batches=0,
    )
    trainer.fit(module, datamodule=dm)
    return module.first_rows


def test_trainer_reshuffles_every_epoch_reproducibly(labeled):
    runs = [_fit(labeled(labels=("a", "b", "c", "d") * 8), epochs=3) for _ in range(2)]
    assert runs[0] == runs[1]
    assert len({tuple(rows) for rows in runs[0]}) == 3


def test_multi_negative_rows_train_multiple_negatives_ranking_loss(data_dir, tmp_path, tiny_model_dir):
    triplets = pd.read_csv(data_dir / "snli" / "dev_triplets.csv", nrows=200, dtype=str).drop_duplicates("anchor")
    # Real SNLI triplets; negatives of later rows serve as extra negatives.
    frame = pd.DataFrame(
        {
            "anchor": triplets.anchor[:8].tolist(),
            "positive": triplets.positive[:8].tolist(),
            **{f"negative_{k + 1}": triplets.negative[8 * k : 8 * k + 8].tolist() for k in range(3)},
        }
    )
    path = tmp_path / "multi.jsonl"
    frame.to_json(path, orient="records", lines=True)
    dm = local_file_datamodule(
        str(path), "multi_negative", tokenizer=str(tiny_model_dir), batch_size=4, max_seq_length=32
    )
    loss = MultipleNegativesRankingLoss()
    dm.bind_loss(loss)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert batch.format is BatchFormat.MULTI_NEGATIVE and len(batch.features) == 5 and batch.labels is None
    rows = frame.set_index("anchor").loc[batch.texts[0]]
    assert batch.texts[1:] == [rows[column].tolist() for column in frame.columns[1:]]

    encoder = HFEncoder(str(tiny_model_dir), max_seq_length=32).eval()
    with torch.no_grad():
        output = loss.training_loss(encoder, batch)
        anchors, *candidates = (encoder(features) for features in batch.features)
    # Independent MNRL: each anchor's positive against every positive and negative of the batch.
    scores = loss.scale * F.cosine_similarity(anchors[:, None], torch.cat(candidates)[None], dim=-1)
    torch.testing.assert_close(output.loss, F.cross_entropy(scores, torch.arange(len(batch))))
