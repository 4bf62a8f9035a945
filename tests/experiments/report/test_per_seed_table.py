from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.report import leaderboard_formats
from experiments.report.leaderboard import build_leaderboard
from experiments.report.per_seed_table import (
    PER_SEED_COLUMNS,
    LabelledRun,
    per_seed_table,
    read_per_seed,
    resolve_baseline,
    to_csv,
)
from experiments.report.results_loader import load_results
from tests.experiments.report.run_fixtures import write_run

TASKS = ["T1", "T2"]


@pytest.fixture
def runs(tmp_path: Path) -> list[LabelledRun]:
    rng = np.random.default_rng(0)
    for loss in ("a", "b"):
        for seed in (1, 2, 3):
            test = {task: 70.0 + float(rng.normal(0, 3)) for task in TASKS}
            costs = {"wall_time_s": 10.0 + seed, "global_step": 40, "peak_memory_mb": 512.25}
            write_run(tmp_path / "runs", {"loss": loss}, seed, {**test, "Other": 1.0}, 1 / 3 + seed, costs=costs,
                      before={"T1": 60.0, "T2": 61.0})  # fmt: skip
    return [LabelledRun(r.configuration["loss"], r) for r in load_results(tmp_path / "runs")]


def test_long_table_of_tasks_validation_and_costs(runs: list[LabelledRun], tmp_path: Path) -> None:
    report_dir = tmp_path / "reports" / "g"
    table = per_seed_table(runs, TASKS, resolve_baseline([r.result for r in runs], None), report_dir)
    assert tuple(table.columns) == PER_SEED_COLUMNS
    a1 = table[(table["loss"] == "a") & (table["seed"] == 1)].set_index("task")
    assert list(a1.index) == ["T1", "T2", "val/knn_accuracy", "cost/wall_time_s", "cost/global_step",
                              "cost/peak_memory_mb"]  # fmt: skip
    assert a1.loc["val/knn_accuracy", "score"] == 1 / 3 + 1 and a1.loc["cost/peak_memory_mb", "score"] == 512.25
    assert set(a1["run_dir"]) == {"../../runs/a__seed1"} and set(a1["stage"]) == {"after"}
    baseline = table[table["loss"] == "baseline"]
    assert baseline["seed"].isna().all() and baseline["score"].tolist() == [60.0, 61.0]
    assert set(baseline["stage"]) == {"before"} and set(baseline["run_dir"]) == {"../../runs/a__seed1"}


def test_csv_round_trip_rebuilds_the_same_leaderboard(runs: list[LabelledRun], tmp_path: Path) -> None:
    table = per_seed_table(runs, TASKS, resolve_baseline([r.result for r in runs], None), tmp_path)
    (tmp_path / "per_seed.csv").write_text(to_csv(table))
    back = read_per_seed(tmp_path / "per_seed.csv")
    pd.testing.assert_frame_equal(back, table)  # floats at full precision: bit-identical
    boards = [build_leaderboard(t, TASKS, "average") for t in (table, back)]
    assert leaderboard_formats.to_csv(boards[0]) == leaderboard_formats.to_csv(boards[1])


def test_one_run_per_loss_and_seed(runs: list[LabelledRun]) -> None:
    with pytest.raises(ValueError, match="a__seed1 and .*a__seed1: both are loss 'a' seed 1"):
        per_seed_table([runs[0], runs[0]], TASKS, None, Path("."))
    with pytest.raises(ValueError, match="the label 'baseline' is reserved"):
        per_seed_table([LabelledRun("baseline", runs[0].result)], TASKS, None, Path("."))


def test_bad_per_seed_files_are_named(tmp_path: Path) -> None:
    path = tmp_path / "per_seed.csv"
    path.write_text("loss,seed,task\na,1,T\n")
    with pytest.raises(ValueError, match="per_seed.csv: missing columns \\['score'"):
        read_per_seed(path)
    path.write_text(",".join(PER_SEED_COLUMNS) + "\na,1,T,high,r,after,c,0\n")
    with pytest.raises(ValueError, match="row 2, column score: expected a number, got 'high'"):
        read_per_seed(path)


def test_a_designated_baseline_without_scores_is_refused(tmp_path: Path) -> None:
    empty = write_run(tmp_path, {"loss": "x"}, 1, {}, best_val=1.0)
    with pytest.raises(ValueError, match="has neither 'before' nor 'test' scores"):
        resolve_baseline([], empty)
