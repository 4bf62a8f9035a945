import numpy as np
import pytest
from mteb.results import TaskResult
from scipy.stats import spearmanr

from experiments.evaluation.errors import MissingTaskDataError
from experiments.evaluation.local_tasks import read_csv_columns
from experiments.evaluation.mteb_runner import format_scores, run_mteb


def _independent_spearman(encoder, csv_path):
    cols = read_csv_columns(csv_path, ("sentence1", "sentence2", "score"))
    encoder.eval()
    a, b = encoder.encode(cols["sentence1"]).numpy(), encoder.encode(cols["sentence2"]).numpy()
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return 100 * spearmanr([float(s) for s in cols["score"]], cos).statistic


def test_scores_and_writes_mteb_result_files(tiny_encoder, sts_csv, tmp_path):
    out = tmp_path / "results"
    scores = run_mteb(tiny_encoder, [str(sts_csv)], out, model_name="losslab/tiny", revision="step-3")
    score = scores["LocalSTS-tiny_sts"]
    assert score.main_metric == "cosine_spearman"
    assert score.main_score == pytest.approx(_independent_spearman(tiny_encoder, sts_csv), abs=1e-4)
    revision_dir = out / "losslab__tiny" / "step-3"
    assert sorted(p.name for p in revision_dir.iterdir()) == [
        "LocalSTS-tiny_sts.json",
        "model_meta.json",
        "run_settings.jsonl",
    ]
    on_disk = TaskResult.from_disk(revision_dir / "LocalSTS-tiny_sts.json")
    assert 100 * on_disk.get_score() == pytest.approx(score.main_score, abs=1e-3)
    # No staging directory left behind; the per-pair cosines of the local STS task beside MTEB's files.
    assert sorted(p.name for p in out.iterdir()) == ["losslab__tiny", "per_pair"]
    assert "LocalSTS-tiny_sts" in format_scores(scores)


def test_no_output_dir_writes_nothing(tiny_encoder, sts_csv, tmp_path):
    scores = run_mteb(tiny_encoder, [str(sts_csv)], None, model_name="losslab/tiny", revision="r")
    assert set(scores) == {"LocalSTS-tiny_sts"}
    assert [p.name for p in tmp_path.iterdir()] == [sts_csv.name]


def test_unreachable_hub_data_is_one_clear_error(tiny_encoder, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setattr("datasets.config.HF_HUB_OFFLINE", True, raising=False)
    with pytest.raises(MissingTaskDataError, match="could not load data for task 'STS12'"):
        run_mteb(tiny_encoder, ["STS12"], None, model_name="losslab/tiny", revision="r", source="hub")
