"""Fixtures for the evaluation tests: a tiny encoder and a small STS CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from lightning_modules.encoders.hf_encoder import HFEncoder


@pytest.fixture
def tiny_encoder(tiny_model_dir: Path) -> HFEncoder:
    return HFEncoder(str(tiny_model_dir), max_seq_length=32)


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
