"""all-MiniLM-L6-v2 must reproduce MTEB's public numbers and sentence-transformers' own scores."""

import numpy as np
import pytest
from scipy.stats import spearmanr
from sentence_transformers import SentenceTransformer

from core.model_resolution import embedded_model_path
from experiments.evaluation.local_tasks import read_csv_columns
from experiments.evaluation.mteb_runner import run_mteb
from lightning_modules.encoders.hf_encoder import HFEncoder

# Public MTEB leaderboard, sentence-transformers/all-MiniLM-L6-v2, cosine Spearman x100.
LEADERBOARD = {"STSBenchmark": 82.03, "SICK-R": 77.58}


@pytest.mark.slow
def test_reproduces_mteb_leaderboard(data_dir):
    scores = run_mteb(HFEncoder(), list(LEADERBOARD), None, "sentence-transformers/all-MiniLM-L6-v2", "ref", data_dir)
    for task, expected in LEADERBOARD.items():
        assert scores[task].main_score == pytest.approx(expected, abs=0.01)


def test_sts_benchmark_subset_matches_sentence_transformers(data_dir, stsb_subset):
    ours = run_mteb(HFEncoder(), [str(stsb_subset)], None, "losslab/minilm", "ref", data_dir)["LocalSTS-stsb_head"]

    rows = read_csv_columns(stsb_subset, ("sentence1", "sentence2", "score"))
    model = SentenceTransformer(str(embedded_model_path()), device="cpu")
    a = model.encode(rows["sentence1"], convert_to_numpy=True)
    b = model.encode(rows["sentence2"], convert_to_numpy=True)
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    expected = 100 * spearmanr([float(s) for s in rows["score"]], cos).statistic
    assert ours.main_score == pytest.approx(expected, abs=1e-3)
