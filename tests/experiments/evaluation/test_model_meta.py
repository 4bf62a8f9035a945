import json
from pathlib import Path

import pytest
from mteb.models.model_meta import ModelMeta, ScoringFunction

from experiments.evaluation.model_meta import (
    ModelProvenance,
    build_model_meta,
    mteb_training_datasets,
    run_model_name,
)
from experiments.evaluation.mteb_runner import run_mteb
from lightning_modules.encoders.hf_encoder import HFEncoder


def test_meta_describes_the_encoder_and_its_provenance(st_model_dir):
    encoder = HFEncoder(str(st_model_dir))
    provenance = ModelProvenance("sentence-transformers/all-MiniLM-L6-v2", frozenset({"stsb", "snli_triplets"}))
    meta = build_model_meta(encoder, "losslab/quickstart-20250101", "abc-step-9", provenance)
    assert (meta.name, meta.revision) == ("losslab/quickstart-20250101", "abc-step-9")
    assert meta.n_parameters == sum(p.numel() for p in encoder.parameters())
    assert meta.n_embedding_parameters == encoder.transformer.embeddings.word_embeddings.weight.numel()
    assert (meta.embed_dim, meta.max_tokens) == (16, 20)  # the Dense output size, the model's own length
    assert meta.similarity_fn_name is ScoringFunction.COSINE
    assert meta.use_instructions is True  # the model has a query prompt
    assert meta.adapted_from == "sentence-transformers/all-MiniLM-L6-v2"
    assert meta.training_datasets == {"STSBenchmark", "snli_triplets"}
    ModelMeta.model_validate(meta.model_dump())  # every field passes MTEB's own validation


def test_training_datasets_name_mteb_tasks_where_there_are_some():
    assert mteb_training_datasets(["banking77", "sick", "my_corpus"]) == {
        "Banking77Classification",
        "Banking77Clustering",
        "SICK-R",
        "my_corpus",
    }


@pytest.mark.parametrize(
    ("run_dir", "name"),
    [
        ("runs/quickstart/20250101-120000", "losslab/quickstart-20250101-120000"),
        ("runs/sts_pair_losses/cosent-s42", "losslab/sts_pair_losses-cosent-s42"),
    ],
)
def test_run_model_name(tmp_path, monkeypatch, run_dir, name):
    monkeypatch.chdir(tmp_path)
    assert run_model_name(Path(run_dir)) == name


def test_model_meta_json_holds_the_provenance(tiny_encoder, sts_csv, tmp_path):
    provenance = ModelProvenance("org/base", frozenset({"stsb"}))
    run_mteb(tiny_encoder, [str(sts_csv)], tmp_path, "losslab/run-1", "r1", provenance=provenance)
    meta = json.loads((tmp_path / "losslab__run-1" / "r1" / "model_meta.json").read_text())
    assert meta["adapted_from"] == "org/base"
    assert meta["training_datasets"] == ["STSBenchmark"]
    assert meta["n_parameters"] == sum(p.numel() for p in tiny_encoder.parameters())
