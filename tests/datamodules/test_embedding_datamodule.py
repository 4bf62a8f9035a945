"""The DataModule options that reshape training rows (noise, teacher labels) and mid-epoch resumption."""

import numpy as np
import pytest
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint

from core.batch_formats import BatchFormat
from datamodules.conversion import get_conversion
from datamodules.noisy_text_dataset import delete_tokens
from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.encoders.teacher_encoder import TeacherEncoder
from lightning_modules.losses import DenoisingAutoEncoderLoss, MarginMSELoss, MSELoss
from tests.datamodules.datamodule_factory import local_file_datamodule

SENTENCES = [f"sentence number {i} has {' '.join(['some'] * (i % 5))} words" for i in range(24)]


@pytest.fixture
def pairs_file(tmp_path):
    path = tmp_path / "pairs.csv"
    rows = [f'"{SENTENCES[i]}","{SENTENCES[i + 12]}",{i % 6}\n' for i in range(12)]
    path.write_text("sentence1,sentence2,score\n" + "".join(rows))
    return path


@pytest.fixture
def make(pairs_file, tiny_model_dir, tmp_path):
    def build(**kwargs):
        options = {"tokenizer": str(tiny_model_dir), "batch_size": 4, "max_seq_length": 32, **kwargs}
        return local_file_datamodule(str(pairs_file), "scored_pair", score_range=(0, 5), **options)

    return build


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"noise": "token_deletion"},
            "token_deletion. needs single-sentence .* set conversion to pairs_to_singles",
        ),
        (
            {"noise": "token_deletion", "conversion": "pairs_to_singles", "distill": "embeddings"},
            "needs single-sentence training rows .* gives distillation",
        ),
        ({"noise": "token_deletion", "conversion": "pairs_to_singles", "deletion_ratio": 1.0}, "deletion_ratio=1.0"),
        ({"noise": "blur", "conversion": "pairs_to_singles"}, "noise='blur' is unknown"),
        ({"distill": "embeddings"}, "distill='embeddings' needs single .* got scored_pair"),
        ({"distill": "margins", "conversion": "pairs_to_singles"}, "distill='margins' needs triplet"),
    ],
)
def test_options_contradicting_the_rows_are_refused(make, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make(**kwargs)


def _noisy_batches(dm, epochs):
    dm.bind_loss(DenoisingAutoEncoderLoss())
    dm.setup("fit")
    loader = dm.train_dataloader()
    return [next(iter(loader)) for _ in range(epochs)]  # each iter() starts the next epoch


def test_noise_is_redrawn_every_epoch_from_seed_epoch_and_row(make):
    dm = make(conversion="pairs_to_singles", noise="token_deletion", seed=7)
    assert dm.train_format is BatchFormat.SINGLE and "noise=token_deletion" in dm.describe()
    batches = _noisy_batches(dm, epochs=2)
    rows = dm.train_data.columns[0]
    for epoch, batch in enumerate(batches):
        assert set(batch.texts[0]) <= set(SENTENCES) and batch.labels is None  # originals: decoder targets
        rngs = [np.random.default_rng([7, epoch, rows.index(text)]) for text in batch.texts[0]]
        noisy = [delete_tokens(text, 0.6, rng) for text, rng in zip(batch.texts[0], rngs, strict=True)]
        expected = dm.tokenizer(noisy, padding=True, truncation=True, max_length=32, return_tensors="pt")
        assert torch.equal(batch.features[0]["input_ids"], expected["input_ids"])
    same = _noisy_batches(make(conversion="pairs_to_singles", noise="token_deletion", seed=7), epochs=2)
    for ours, theirs in zip(batches, same, strict=True):
        assert ours.texts == theirs.texts
        assert torch.equal(ours.features[0]["input_ids"], theirs.features[0]["input_ids"])


def test_distilled_embeddings_are_computed_once_and_served_as_labels(make, tiny_model_dir, tmp_path, encode_calls):
    options = {
        "conversion": "pairs_to_singles",
        "distill": "embeddings",
        "teacher": TeacherEncoder(str(tiny_model_dir), max_seq_length=32),
        "teacher_cache_dir": str(tmp_path / "cache"),
    }
    for _ in range(2):
        dm = make(**options)
        assert dm.train_format is BatchFormat.DISTILLATION and "distill=embeddings" in dm.describe()
        dm.bind_loss(MSELoss())
        dm.setup("fit")
        assert encode_calls == [len(SENTENCES)]  # the second DataModule reads the cache
        batch = next(iter(dm.train_dataloader()))
        assert batch.labels.shape == (4, 32) and batch.labels.dtype == torch.float32
        teacher = HFEncoder(str(tiny_model_dir), max_seq_length=32).eval()
        torch.testing.assert_close(batch.labels, teacher.encode(batch.texts[0]), atol=1e-5, rtol=0)
        encode_calls.pop()  # the reference call just above


def test_distilled_margins_from_triplets(tmp_path, tiny_model_dir):
    path = tmp_path / "triplets.csv"
    path.write_text("anchor,positive,negative\n" + "".join(f"a{i},p{i},n{i}\n" for i in range(8)))
    dm = local_file_datamodule(
        str(path),
        "triplet",
        distill="margins",
        teacher=TeacherEncoder(str(tiny_model_dir)),
        teacher_cache_dir=str(tmp_path / "cache"),
        tokenizer=str(tiny_model_dir),
        batch_size=4,
    )
    assert dm.train_format is BatchFormat.MARGIN_TRIPLET
    dm.bind_loss(MarginMSELoss())
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    teacher = HFEncoder(str(tiny_model_dir)).eval()
    query, first, second = (teacher.encode(column) for column in batch.texts)
    expected = (query * first).sum(1) - (query * second).sum(1)
    torch.testing.assert_close(batch.labels, expected, atol=1e-5, rtol=0)


class _RowRecorder(pl.LightningModule):
    """Trains nothing; records the rows of every training batch."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.batches: list[tuple[str, ...]] = []

    def training_step(self, batch, batch_idx):
        self.batches.append(tuple(batch.texts[0]))
        return self.weight.sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def transfer_batch_to_device(self, batch, device, dataloader_idx):
        return batch.to(device)


def _fit_recording(dm, checkpoint_dir, ckpt_path=None):
    module = _RowRecorder()
    trainer = pl.Trainer(
        max_epochs=2,
        logger=False,
        callbacks=[ModelCheckpoint(checkpoint_dir, "{step}", every_n_train_steps=2, save_top_k=-1)],
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        accelerator="cpu",
    )
    trainer.fit(module, datamodule=dm, ckpt_path=ckpt_path)
    return module.batches


def test_resuming_a_mid_epoch_checkpoint_continues_with_exactly_the_remaining_batches(tmp_path, tiny_model_dir):
    path = tmp_path / "rows.csv"
    path.write_text("sentence\n" + "".join(f"row {i}\n" for i in range(22)))

    def make():
        return local_file_datamodule(str(path), "single", tokenizer=str(tiny_model_dir), batch_size=4, seed=3)

    uninterrupted = _fit_recording(make(), tmp_path / "ckpt")
    assert len(uninterrupted) == 12  # 2 epochs of 6 batches, each row once per epoch
    every_row = sorted(f"row {i}" for i in range(22))
    assert all(sorted(sum(uninterrupted[e * 6 : (e + 1) * 6], ())) == every_row for e in (0, 1))
    # Step 4: inside epoch 0; step 6: its last batch; step 10: inside epoch 1.
    for step in (4, 6, 10):
        resumed = _fit_recording(make(), tmp_path / f"resumed_{step}", tmp_path / "ckpt" / f"step={step}.ckpt")
        assert uninterrupted[:step] + resumed == uninterrupted, f"resumed from step {step}"


def test_hard_triplets_are_mined_by_the_teacher_once(tmp_path, tiny_model_dir, encode_calls):
    path = tmp_path / "labeled.csv"
    path.write_text("sentence,label\n" + "".join(f"{SENTENCES[i]},{i % 3}\n" for i in range(12)))
    options = {"teacher": TeacherEncoder(str(tiny_model_dir)), "teacher_cache_dir": str(tmp_path / "cache"), "seed": 3}
    for _ in range(2):
        dm = local_file_datamodule(
            str(path), "labeled", conversion="labels_to_hard_triplets", tokenizer=str(tiny_model_dir), **options
        )
        assert dm.train_format is BatchFormat.TRIPLET
        assert f"conversion=labels_to_hard_triplets (teacher TeacherEncoder({str(tiny_model_dir)!r}))" in dm.describe()
        dm.setup("fit")
        assert encode_calls == [12]  # the second DataModule reads the cache
    rows = dm.source.load("train", None)
    expected = get_conversion("labels_to_hard_triplets").apply(rows, 3, teacher=dm.teacher)
    assert dm.train_data.columns == expected.columns
