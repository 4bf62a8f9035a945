from __future__ import annotations

import math
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from experiments.report.leaderboard import BootstrapSettings, Leaderboard, build_leaderboard
from experiments.report.pair_scores import TaskPairs, load_pairs
from experiments.report.per_seed_table import LabelledRun, per_seed_table, resolve_baseline
from experiments.report.results_loader import load_results
from tests.experiments.report.run_fixtures import noisy_cosines, sts_pairs, write_run, write_sts_run

# Seeds 1-3 of five losses on one task. "close" differs from "best" by seed noise only; "worse" and "equal"
# are ~10 points lower on every seed with the same mean (both rank 3); "single" has one seed only.
SCORES = {
    "best": [80.0, 81.0, 82.0],
    "close": [79.5, 81.5, 81.0],
    "worse": [70.0, 71.2, 71.9],
    "equal": [71.9, 70.0, 71.2],
    "single": [50.0],
}


def long_table(scores: dict[str, list[float]], task: str = "T") -> pd.DataFrame:
    rows = [
        (loss, seed, task, value, f"runs/{loss}{seed}", "after", "c0ffee", 0)
        for loss, values in scores.items()
        for seed, value in enumerate(values, start=1)
    ]
    frame = pd.DataFrame(rows, columns=["loss", "seed", "task", "score", "run_dir", "stage", "git_commit", "git_dirty"])
    return frame.astype({"seed": "Int64", "git_dirty": "Int64"})


@pytest.fixture
def board() -> Leaderboard:
    return build_leaderboard(long_table(SCORES), ["T"], "T")


def by_loss(board: Leaderboard) -> dict:
    return {row.loss: row for row in board.rows}


def test_statistics_per_cell_match_scipy(board: Leaderboard) -> None:
    rows = by_loss(board)
    for loss, values in SCORES.items():
        seeds = rows[loss].cells["T"].seeds
        assert (seeds.n, seeds.mean) == (len(values), pytest.approx(statistics.mean(values)))
        if len(values) > 1:
            interval = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
            assert (seeds.ci_low, seeds.ci_high) == pytest.approx(interval)
    others = ["close", "worse", "equal"]
    raw = [stats.ttest_rel(SCORES["best"], SCORES[loss]).pvalue for loss in others]
    for loss, p, adjusted in zip(others, raw, multipletests(raw, method="holm")[1], strict=True):
        cell = rows[loss].cells["T"]
        assert (cell.p_seeds, cell.p_vs_best, cell.p_holm) == (
            pytest.approx(p),
            pytest.approx(p),
            pytest.approx(adjusted),
        )
        assert cell.p_pairs is None


def test_losses_tied_with_the_best_share_rank_one_and_the_rest_are_ranked_by_mean(board: Leaderboard) -> None:
    assert board.best == {"T": "best", "average": "best"}
    tied = {row.loss: row.cells["T"].tied_with_best for row in board.rows}
    assert tied == {"best": True, "close": True, "worse": False, "equal": False, "single": None}
    assert {row.loss: row.rank for row in board.rows} == {"best": 1, "close": 1, "equal": 3, "worse": 3, "single": 5}
    assert [row.loss for row in board.rows][:2] == ["best", "close"]  # within a rank: by mean


def test_without_any_test_the_ranks_follow_the_means() -> None:
    board = build_leaderboard(long_table({"a": [70.0], "b": [80.0], "c": [70.0]}), ["T"], "T")
    assert [(row.loss, row.rank, row.cells["T"].tied_with_best) for row in board.rows] == [
        ("b", 1, True), ("a", 2, None), ("c", 2, None)
    ]  # fmt: skip


def test_lower_is_better_columns_pick_the_lowest_mean() -> None:
    frame = long_table({"a": [1.0, 1.1, 1.2], "b": [2.0, 2.2, 2.1]}, task="val/loss")
    board = build_leaderboard(frame, [], "val/loss", higher_is_better={"val/loss": False})
    assert board.best["val/loss"] == "a" and [row.loss for row in board.rows] == ["a", "b"]


def test_average_is_tested_over_seeds_and_holm_runs_per_column() -> None:
    frame = pd.concat([long_table(SCORES, "T1"), long_table({k: [v + 1 for v in s] for k, s in SCORES.items()}, "T2")])
    board = build_leaderboard(frame, ["T1", "T2"], "average")
    assert board.columns == ("T1", "T2", "average")
    cell = by_loss(board)["worse"].cells["average"]
    averages = {loss: [v + 0.5 for v in values] for loss, values in SCORES.items()}
    assert cell.seeds.mean == pytest.approx(statistics.mean(averages["worse"]))
    assert cell.p_seeds == pytest.approx(stats.ttest_rel(averages["best"], averages["worse"]).pvalue)


def test_bad_ranking_column_and_empty_tables_are_errors() -> None:
    with pytest.raises(ValueError, match="primary='SICK-R': expected one of the columns"):
        build_leaderboard(long_table(SCORES), ["T"], "SICK-R")
    with pytest.raises(ValueError, match="at least one finished run"):
        build_leaderboard(long_table({}), ["T"], "T")


def test_sts_tasks_with_pair_files_are_also_tested_over_pairs(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    gold = sts_pairs(rng, 80)
    noise = {"best": 0.1, "noisy": 0.5}
    for loss, level in noise.items():
        write_sts_run(tmp_path / "runs", loss, 1, "STSBenchmark", gold, noisy_cosines(gold, level, rng))
    runs = [LabelledRun(r.configuration["loss"], r) for r in load_results(tmp_path / "runs")]
    frame = per_seed_table(runs, ["STSBenchmark"], None, tmp_path)
    pairs = load_pairs(frame, ["STSBenchmark"], tmp_path)
    board = build_leaderboard(frame, ["STSBenchmark"], "STSBenchmark", pairs=pairs, bootstrap=BootstrapSettings(200))
    noisy = by_loss(board)["noisy"].cells["STSBenchmark"]
    # One seed: no seed test; the pair bootstrap alone decides (and is the only p-value of the Holm family).
    assert noisy.p_seeds is None and noisy.p_pairs == pytest.approx(1 / 201) and noisy.p_holm == noisy.p_pairs
    assert noisy.tied_with_best is False and [row.rank for row in board.rows] == [1, 2]
    assert board.pair_tasks == ("STSBenchmark",) and by_loss(board)["best"].cells["STSBenchmark"].pairs is not None
    assert by_loss(board)["best"].cells["average"].pairs is None  # averages are tested over seeds only


def test_a_loss_is_worse_only_if_every_available_test_says_so() -> None:
    # Over seeds "other" is clearly worse; over test pairs it is indistinguishable (identical cosines).
    frame = long_table({"best": [80.0, 81.0, 82.0], "other": [70.0, 71.2, 71.9]})
    gold = sts_pairs(np.random.default_rng(0), 40)
    cosines = [noisy_cosines(gold, 0.2, np.random.default_rng(seed)) for seed in (1, 2, 3)]
    pairs = {"T": TaskPairs("T", gold, {"best": cosines, "other": [c.copy() for c in cosines]})}
    board = build_leaderboard(frame, ["T"], "T", pairs=pairs, bootstrap=BootstrapSettings(50))
    cell = by_loss(board)["other"].cells["T"]
    assert cell.p_seeds < 0.01 and cell.p_pairs == 1.0
    assert (cell.p_vs_best, cell.tied_with_best) == (1.0, True)


def test_baseline_row_comes_from_before_scores_or_a_designated_run(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", {"loss": "a"}, 1, {"T": 80.0}, best_val=1.0, before={"T": 70.0})
    write_run(tmp_path / "runs", {"loss": "a"}, 2, {"T": 82.0}, best_val=1.0, before={"T": 70.0})
    zero_steps = write_run(tmp_path / "baseline", {"loss": "none"}, 0, {"T": 69.0}, best_val=1.0)
    results = load_results(tmp_path / "runs")
    runs = [LabelledRun("a", r) for r in results]
    for designated, expected, stage in ((None, 70.0, "before"), (zero_steps, 69.0, "after")):
        baseline = resolve_baseline(results, designated)
        assert baseline.stage == stage
        board = build_leaderboard(per_seed_table(runs, ["T"], baseline, tmp_path), ["T"], "T")
        assert board.baseline.cells["T"].seeds.mean == expected and board.baseline.rank is None
        assert board.baseline.seeds == () and [row.loss for row in board.rows] == ["a"]
    with pytest.raises(ValueError, match="expected a finished run directory"):
        resolve_baseline(results, tmp_path / "nowhere")


def test_missing_scores_rank_last_and_have_no_tie(tmp_path: Path) -> None:
    write_run(tmp_path, {"loss": "a"}, 1, {"T1": 1.0}, best_val=1.0)
    write_run(tmp_path, {"loss": "b"}, 1, {"T2": 1.0}, best_val=1.0)
    runs = [LabelledRun(r.configuration["loss"], r) for r in load_results(tmp_path)]
    board = build_leaderboard(per_seed_table(runs, ["T1", "T2"], None, tmp_path), ["T1", "T2"], "T1")
    assert [(row.loss, row.rank) for row in board.rows] == [("a", 1), ("b", 2)]
    assert math.isnan(by_loss(board)["b"].cells["T1"].seeds.mean)
    assert by_loss(board)["b"].cells["T1"].tied_with_best is None
    assert all(math.isnan(row.cells["average"].seeds.mean) for row in board.rows)


def test_runs_without_test_scores_are_ranked_by_validation(tmp_path: Path) -> None:
    write_run(tmp_path, {"loss": "a"}, 1, {}, best_val=1.0)
    write_run(tmp_path, {"loss": "b"}, 1, {}, best_val=2.0)
    runs = [LabelledRun(r.configuration["loss"], r) for r in load_results(tmp_path)]
    board = build_leaderboard(per_seed_table(runs, ["T"], None, tmp_path), ["T"], "average")
    assert board.columns == ("val/knn_accuracy",) and [row.loss for row in board.rows] == ["b", "a"]


def test_costs_are_averaged_over_seeds(tmp_path: Path) -> None:
    for seed, wall in ((1, 10.0), (2, 20.0)):
        costs = {"wall_time_s": wall, "global_step": 5, "peak_memory_mb": 300.0 + seed}
        write_run(tmp_path, {"loss": "a"}, seed, {"T": 1.0}, best_val=1.0, costs=costs)
    runs = [LabelledRun("a", r) for r in load_results(tmp_path)]
    board = build_leaderboard(per_seed_table(runs, ["T"], None, tmp_path), ["T"], "T", trials={"a": 7})
    (row,) = board.rows
    assert board.cost_columns == ("wall_time_s", "global_step", "peak_memory_mb")
    assert (row.costs["wall_time_s"].mean, row.costs["global_step"].mean, row.costs["peak_memory_mb"].mean) == (
        15.0, 5.0, 301.5
    )  # fmt: skip
    assert board.trials == {"a": 7}
