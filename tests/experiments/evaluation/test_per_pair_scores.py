import csv
import shutil

import numpy as np
import pytest
from mteb.tasks.sts.eng.sts_benchmark_sts import STSBenchmarkSTS
from scipy.stats import spearmanr

from experiments.evaluation.local_tasks import (
    LocalBanking77Classification,
    LocalSickR,
    LocalSTSTask,
    MSRPPairClassification,
    read_csv_columns,
)
from experiments.evaluation.mteb_runner import run_mteb
from experiments.evaluation.per_pair_scores import has_per_pair_scores


def _read(path):
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, [row for row in reader]


def test_local_sts_task_writes_per_pair_cosines(tiny_encoder, stsb_subset, tmp_path):
    out = tmp_path / "mteb" / "after"
    score = run_mteb(tiny_encoder, [str(stsb_subset)], out, "losslab/tiny", "r")["LocalSTS-stsb_head"]
    header, rows = _read(out / "per_pair" / "LocalSTS-stsb_head.csv")
    assert header == ["pair_index", "gold", "cosine"]
    source = read_csv_columns(stsb_subset, ("sentence1", "sentence2", "score"))
    assert [int(r[0]) for r in rows] == list(range(len(source["score"])))
    gold, cosine = np.array([[float(r[1]), float(r[2])] for r in rows]).T
    assert gold.tolist() == [float(s) for s in source["score"]]  # the test split's order
    # The file holds the cosines MTEB scored: its Spearman is the main score (exactly; same numbers).
    assert 100 * spearmanr(gold, cosine).statistic == pytest.approx(score.main_score, abs=1e-9)
    # ... and they are the encoder's own cosines (independently recomputed).
    tiny_encoder.eval()
    a, b = tiny_encoder.encode(source["sentence1"]), tiny_encoder.encode(source["sentence2"])
    expected = (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))
    np.testing.assert_allclose(cosine, expected.numpy(), atol=1e-5)
    assert not [p for p in (out / "per_pair").iterdir() if p.name.startswith(".")], "no temporary file left"


def test_local_sts_benchmark_writes_its_per_pair_file(tiny_encoder, stsb_subset, tmp_path):
    # MTEB's own STSBenchmark task read locally, from a data directory holding a 200-pair test split.
    data_dir = tmp_path / "data"
    (data_dir / "stsb").mkdir(parents=True)
    shutil.copy(stsb_subset, data_dir / "stsb" / "test.csv")
    out = tmp_path / "out"
    scores = run_mteb(tiny_encoder, ["STSBenchmark"], out, "losslab/tiny", "r", data_dir=data_dir)
    _, rows = _read(out / "per_pair" / "STSBenchmark.csv")
    assert len(rows) == 200
    gold, cosine = np.array([[float(r[1]), float(r[2])] for r in rows]).T
    assert 100 * spearmanr(gold, cosine).statistic == pytest.approx(scores["STSBenchmark"].main_score, abs=1e-9)


def test_only_local_sts_tasks_have_per_pair_files(data_dir, sts_csv):
    assert has_per_pair_scores(LocalSTSTask(sts_csv))
    assert has_per_pair_scores(LocalSickR(data_dir))
    assert not has_per_pair_scores(MSRPPairClassification(data_dir))
    assert not has_per_pair_scores(LocalBanking77Classification(data_dir))
    assert not has_per_pair_scores(STSBenchmarkSTS())  # Hub data: not a local task
