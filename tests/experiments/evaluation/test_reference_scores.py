"""all-MiniLM-L6-v2 must reproduce MTEB's public numbers and sentence-transformers' own scores."""

import csv

import numpy as np
import pytest
from scipy.stats import spearmanr
from sentence_transformers import SentenceTransformer

from core.model_resolution import embedded_model_path
from experiments.evaluation.mteb_runner import run_mteb
from lightning_modules.encoders.hf_encoder import HFEncoder

# Public MTEB leaderboard, sentence-transformers/all-MiniLM-L6-v2, cosine Spearman x100.
LEADERBOARD = {"STSBenchmark": 82.03, "SICK-R": 77.58}


@pytest.mark.slow
def test_reproduces_mteb_leaderboard(data_dir):
    scores = run_mteb(HFEncoder(), list(LEADERBOARD), None, "sentence-transformers/all-MiniLM-L6-v2", "ref", data_dir)
    for task, expected in LEADERBOARD.items():
        assert scores[task].main_score == pytest.approx(expected, abs=0.01)


def test_sts_benchmark_subset_matches_sentence_transformers(data_dir, tmp_path):
    subset = tmp_path / "stsb_head.csv"
    with (data_dir / "stsb" / "test.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))[:100]
    with subset.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["sentence1", "sentence2", "score"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    ours = run_mteb(HFEncoder(), [str(subset)], None, "losslab/minilm", "ref", data_dir)["LocalSTS-stsb_head"]

    model = SentenceTransformer(str(embedded_model_path()), device="cpu")
    a = model.encode([r["sentence1"] for r in rows], convert_to_numpy=True)
    b = model.encode([r["sentence2"] for r in rows], convert_to_numpy=True)
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    expected = 100 * spearmanr([float(r["score"]) for r in rows], cos).statistic
    assert ours.main_score == pytest.approx(expected, abs=1e-3)
