"""Shared fixtures: offline mode, the tiny model, the data directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests never touch the network: make any accidental Hub access fail fast instead of hanging.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")

from tests.tiny_model import make_tiny_model  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# What scripts/test.sh sets, so a bare `pytest` and the processes tests start (fits, SLURM jobs) find the data.
if (PROJECT_ROOT.parent / "shared" / "data").is_dir():
    os.environ.setdefault("LOSSLAB_DATA_DIR", str(PROJECT_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory of a tiny random BERT + the real MiniLM tokenizer (loads like any HF model)."""
    return make_tiny_model(tmp_path_factory.mktemp("tiny_bert"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real data directory (``LOSSLAB_DATA_DIR`` or ``../shared/data`` beside the project).

    Missing data fails the tests that need it (never skips them): a CI run without the data must not pass.
    """
    path = Path(os.environ.get("LOSSLAB_DATA_DIR", PROJECT_ROOT.parent / "shared" / "data"))
    if not (path / "stsb").is_dir():
        pytest.fail(f"data directory {path} not found: set LOSSLAB_DATA_DIR or put the data in ../shared/data")
    return path
