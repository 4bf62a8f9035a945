from pathlib import Path

import pytest
import yaml
from huggingface_hub import ModelCard

from experiments.hub.model_card import RunRecord, write_model_card
from lightning_modules.encoders.hf_encoder import HFEncoder

CONFIG = "model:\n  loss:\n    class_path: lightning_modules.losses.CoSENTLoss\n    init_args:\n      scale: 20.0\n"


def _record(**overrides) -> RunRecord:
    fields = {
        "base_model": "sentence-transformers/all-MiniLM-L6-v2",
        "loss_class": "lightning_modules.losses.CoSENTLoss",
        "loss_args": {"scale": 20.0, "similarity_fct": "cosine_similarity"},
        "train_dataset": "stsb",
        "train_columns": ("sentence1", "sentence2", "score"),
        "train_rows": 5749,
        "steps": 180,
        "seed": 42,
        "precision": "bf16-mixed",
        "config_text": CONFIG,
        "mteb_before": {"STSBenchmark": 82.03, "SICK-R": 77.58},
        "mteb_after": {"STSBenchmark": 82.98, "SICK-R": 78.01},
        "best_validation": ("val/sts_spearman", 87.17),
        "wandb_run_id": "abc123",
        "wandb_url": "https://wandb.ai/me/losslab/runs/abc123",
        "model_id": "me/minilm-cosent",
        "language": "en",
        "license": "apache-2.0",
    }
    return RunRecord(**{**fields, **overrides})


@pytest.fixture(scope="module")
def model_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return HFEncoder(str(tiny_model_dir)).save_sentence_transformer(tmp_path_factory.mktemp("export") / "model")


def test_card_is_filled_from_the_run(model_dir: Path) -> None:
    readme = write_model_card(model_dir, _record())
    card = ModelCard.load(readme)  # the Hub's own parser reads it
    assert card.data.base_model == "sentence-transformers/all-MiniLM-L6-v2"
    assert card.data.license == "apache-2.0" and card.data.language == ["en"]
    assert {"losslab", "loss:CoSENTLoss", "sentence-transformers"} <= set(card.data.tags)
    text = card.text
    assert "Base model:** [sentence-transformers/all-MiniLM-L6-v2]" in text and "Unknown" not in text
    assert "| STSBenchmark | 82.03 | 82.98 | +0.95 |" in text
    assert "| SICK-R | 77.58 | 78.01 | +0.43 |" in text
    assert "`lightning_modules.losses.CoSENTLoss`" in text and '"scale": 20.0' in text
    assert "stsb, 5,749 rows" in text and "**Steps:** 180; **seed:** 42; **precision:** bf16-mixed" in text
    assert "`val/sts_spearman` = 87.1700" in text
    assert "[abc123](https://wandb.ai/me/losslab/runs/abc123)" in text
    config_block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert yaml.safe_load(config_block) == yaml.safe_load(CONFIG)
    assert text.index("## losslab run") < text.index("## Training Details")


def test_local_base_model_is_not_claimed_as_a_hub_model(model_dir: Path, tiny_model_dir: Path) -> None:
    record = _record(base_model=str(tiny_model_dir), mteb_before={}, wandb_run_id=None, wandb_url=None)
    card = ModelCard.load(write_model_card(model_dir, record))
    assert card.data.base_model is None
    assert f"**Base model:** {tiny_model_dir}" in card.text
    assert "| STSBenchmark | – | 82.98 | – |" in card.text
    assert "Weights & Biases" not in card.text


def test_rewriting_the_card_leaves_the_model_alone(model_dir: Path) -> None:
    before = {p: p.read_bytes() for p in model_dir.rglob("*") if p.is_file() and p.name != "README.md"}
    write_model_card(model_dir, _record())
    assert {p: p.read_bytes() for p in model_dir.rglob("*") if p.is_file() and p.name != "README.md"} == before
    assert not [p for p in model_dir.iterdir() if p.name.startswith(".")], "no temporary file left"
