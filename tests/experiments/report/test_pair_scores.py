from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.report.pair_scores import load_pairs, read_pair_file
from experiments.report.per_seed_table import LabelledRun, per_seed_table
from experiments.report.results_loader import load_results
from tests.experiments.report.run_fixtures import noisy_cosines, sts_pairs, write_pairs, write_run, write_sts_run

TASK = "STSBenchmark"


def _table(root: Path, report_dir: Path) -> pd.DataFrame:
    runs = [LabelledRun(r.configuration["loss"], r) for r in load_results(root)]
    return per_seed_table(runs, [TASK], None, report_dir)


def test_pairs_are_aligned_by_pair_index_for_losses_with_every_seed(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    gold = sts_pairs(rng, 30)
    cosines = {(loss, seed): noisy_cosines(gold, 0.2, rng) for loss in ("a", "b") for seed in (1, 2)}
    for (loss, seed), cosine in cosines.items():
        write_sts_run(tmp_path / "runs", loss, seed, TASK, gold, cosine)
    (tmp_path / "runs" / "b__seed2" / "mteb" / "after" / "per_pair" / f"{TASK}.csv").unlink()
    report_dir = tmp_path / "reports" / "not-yet-created"
    (pairs,) = load_pairs(_table(tmp_path / "runs", report_dir), [TASK], report_dir).values()
    assert list(pairs.cosines) == ["a"]  # b lacks a seed's file: no pair statistics for b
    assert np.array_equal(pairs.gold, gold)
    assert [c.tolist() for c in pairs.cosines["a"]] == [cosines[("a", 1)].tolist(), cosines[("a", 2)].tolist()]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("pair_index,gold\n0,1.0\n", "missing columns \\['cosine'\\]"),
        ("pair_index,gold,cosine\n0,1.0,0.5\n1,x,0.2\n2,2.0,0.1\n", "row 3, column gold: expected a number"),
        ("pair_index,gold,cosine\n0,1.0,0.5\n0,2.0,0.2\n2,2.0,0.1\n", "pair_index 0 repeats"),
        ("pair_index,gold,cosine\n0,1.0,0.5\n", "1 pairs; expected at least 3"),
    ],
    ids=["column", "number", "repeat", "size"],
)
def test_bad_pair_files_are_named(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "STS.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=f"{path}: {message}"):
        read_pair_file(path)


@pytest.mark.parametrize("fault", ["pairs", "gold", "score"])
def test_inconsistent_files_are_refused(tmp_path: Path, fault: str) -> None:
    rng = np.random.default_rng(1)
    gold = sts_pairs(rng, 30)
    write_sts_run(tmp_path / "runs", "a", 1, TASK, gold, noisy_cosines(gold, 0.2, rng))
    other = write_sts_run(tmp_path / "runs", "b", 1, TASK, gold, noisy_cosines(gold, 0.2, rng))
    cosine = noisy_cosines(gold, 0.2, rng)
    if fault == "pairs":
        write_pairs(other, TASK, gold[:-1], cosine[:-1])
        message = "pair_index values differ"
    elif fault == "gold":
        write_pairs(other, TASK, np.r_[gold[:-1], gold[-1] + 0.5], cosine)
        message = "gold scores differ"
    else:
        write_pairs(other, TASK, gold, cosine)
        message = "but the run records STSBenchmark"
    with pytest.raises(ValueError, match=f"b__seed1/mteb/after/per_pair/{TASK}.csv: .*{message}"):
        load_pairs(_table(tmp_path / "runs", tmp_path / "out"), [TASK], tmp_path / "out")


def test_tasks_without_pair_files_have_no_pairs(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", {"loss": "a"}, 1, {TASK: 80.0}, best_val=1.0)
    assert load_pairs(_table(tmp_path / "runs", tmp_path), [TASK], tmp_path) == {}
