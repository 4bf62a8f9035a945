"""Fixtures for the evaluation tests: a tiny encoder and a small STS CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from lightning_modules.encoders.hf_encoder import HFEncoder
from tests.sentence_transformer_models import make_sentence_transformer
from tests.tiny_model import make_tiny_model


@pytest.fixture
def tiny_encoder(tiny_model_dir: Path) -> HFEncoder:
    return HFEncoder(str(tiny_model_dir), max_seq_length=32)


@pytest.fixture(scope="session")
def spread_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny BERT initialised wider, so that CLS embeddings of different texts do not nearly coincide."""
    return make_tiny_model(tmp_path_factory.mktemp("spread_bert"), initializer_range=0.2)


@pytest.fixture(scope="session")
def st_model_dir(spread_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CLS-pooled sentence-transformers model with a Dense layer, Normalize and a default prompt."""
    return make_sentence_transformer(
        tmp_path_factory.mktemp("st_cls") / "model",
        spread_model_dir,
        pooling="cls",
        dense=(16,),
        normalize=True,
        max_seq_length=20,
        prompts={"query": "query: ", "document": "passage: "},
        default_prompt_name="query",
    )


@pytest.fixture
def sts_csv(tmp_path: Path) -> Path:
    """Twelve scored pairs; several sentences repeat, as in SICK."""
    words = ["a dog runs", "a cat sleeps", "the man sings", "a woman reads", "kids play outside", "it rains"]
    path = tmp_path / "tiny_sts.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["sentence1", "sentence2", "score"])
        for i in range(12):
            writer.writerow([words[i % 6], words[(i * 5 + 1) % 6], (i * 7) % 6])
    return path


@pytest.fixture(scope="session")
def stsb_subset(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """The first 200 pairs of the STS Benchmark test split, as a local STS task CSV."""
    path = tmp_path_factory.mktemp("stsb_subset") / "stsb_head.csv"
    with (data_dir / "stsb" / "test.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))[:200]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["sentence1", "sentence2", "score"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path
