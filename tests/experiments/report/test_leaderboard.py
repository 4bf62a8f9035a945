from __future__ import annotations

import math
import statistics
from pathlib import Path

import numpy as np
import pytest

from experiments.report.leaderboard import Leaderboard, Score
from experiments.report.results_loader import load_results
from tests.experiments.report.run_fixtures import write_run

TASKS = ["Banking77Classification", "STSBenchmark"]
SEEDS = {"hard": [1, 2, 3], "all": [1, 2], "soft": [1]}


@pytest.fixture
def scores() -> dict[tuple[str, int], dict[str, float]]:
    rng = np.random.default_rng(0)
    base = {"hard": 80.0, "all": 70.0, "soft": 75.0}
    return {
        (loss, seed): {task: base[loss] + float(rng.normal(0, 2)) for task in TASKS}
        for loss, seeds in SEEDS.items()
        for seed in seeds
    }


@pytest.fixture
def board(tmp_path: Path, scores: dict) -> Leaderboard:
    for (loss, seed), test in scores.items():
        write_run(tmp_path, {"loss": loss}, seed, test, best_val=100.0 - len(loss) - seed)
    return Leaderboard.build(load_results(tmp_path), TASKS, "average")


def test_rows_aggregate_seeds_with_mean_and_sample_std(board: Leaderboard, scores: dict) -> None:
    assert board.columns == (*TASKS, "average", "val/knn_accuracy")
    for row in board.rows:
        loss = row.configuration["loss"]
        assert sorted(row.seeds) == SEEDS[loss]
        for task in TASKS:
            values = [scores[(loss, s)][task] for s in SEEDS[loss]]
            assert row.scores[task].mean == pytest.approx(statistics.mean(values))
            expected_std = statistics.stdev(values) if len(values) > 1 else None
            assert row.scores[task].std == (pytest.approx(expected_std) if expected_std else None)
        averages = [statistics.mean(scores[(loss, s)].values()) for s in SEEDS[loss]]
        assert row.scores["average"].mean == pytest.approx(statistics.mean(averages))


def test_rows_are_ranked_by_the_primary_column_and_best_is_marked(board: Leaderboard, scores: dict) -> None:
    assert [row.configuration["loss"] for row in board.rows] == ["hard", "soft", "all"]
    assert [row.rank for row in board.rows] == [1, 2, 3]
    for column in board.columns:
        best = max(board.rows, key=lambda row: row.scores[column].mean)
        assert [board.is_best(row, column) for row in board.rows] == [row is best for row in board.rows]


def test_other_primary_columns_and_directions(tmp_path: Path, scores: dict) -> None:
    for (loss, seed), test in scores.items():
        write_run(tmp_path, {"loss": loss}, seed, test, best_val=100.0)
    results = load_results(tmp_path)
    by_sts = Leaderboard.build(results, TASKS, "STSBenchmark")
    means = {row.configuration["loss"]: row.scores["STSBenchmark"].mean for row in by_sts.rows}
    assert [row.configuration["loss"] for row in by_sts.rows] == sorted(means, key=means.get, reverse=True)
    # Equal validation values share rank 1.
    by_val = Leaderboard.build(results, TASKS, "val/knn_accuracy")
    assert [row.rank for row in by_val.rows] == [1, 1, 1]
    with pytest.raises(ValueError, match="primary"):
        Leaderboard.build(results, TASKS, "SICK-R")


def test_a_seed_missing_a_task_has_no_average(tmp_path: Path) -> None:
    write_run(tmp_path, {"loss": "a"}, 1, {"T1": 50.0, "T2": 70.0}, best_val=1.0)
    write_run(tmp_path, {"loss": "a"}, 2, {"T1": 54.0}, best_val=1.0)
    (row,) = Leaderboard.build(load_results(tmp_path), ["T1", "T2"]).rows
    assert row.scores["T1"] == Score(52.0, pytest.approx(statistics.stdev([50.0, 54.0])), 2)
    assert row.scores["T2"] == Score(70.0, None, 1)
    assert row.scores["average"] == Score(60.0, None, 1)


def test_runs_without_test_scores_are_ranked_by_validation(tmp_path: Path) -> None:
    write_run(tmp_path, {"loss": "a"}, 1, {}, best_val=1.0)
    write_run(tmp_path, {"loss": "b"}, 1, {}, best_val=2.0)
    board = Leaderboard.build(load_results(tmp_path), TASKS, "average")
    assert board.columns == ("val/knn_accuracy",)
    assert [row.configuration["loss"] for row in board.rows] == ["b", "a"]


def test_no_results_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one finished run"):
        Leaderboard.build([])


def test_score_of_ignores_missing_values() -> None:
    assert math.isnan(Score.of([math.nan]).mean)
    assert Score.of([1.0, math.nan, 3.0]).n == 2
