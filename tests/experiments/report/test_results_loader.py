from __future__ import annotations

from pathlib import Path

import pytest

from experiments.report.results_loader import load_results
from tests.experiments.report.run_fixtures import write_run


def test_grid_runs_are_identified_by_their_cell_file(tmp_path: Path) -> None:
    write_run(tmp_path, {"loss": "hard", "margin": "m1"}, 3, {"T": 1.0}, best_val=2.0)
    (result,) = load_results(tmp_path)
    assert result.configuration == {"loss": "hard", "margin": "m1"}
    assert (result.seed, result.test, result.best_val, result.val_metric) == (3, {"T": 1.0}, 2.0, "val/knn_accuracy")


def test_runs_outside_a_grid_are_identified_by_their_config(tmp_path: Path) -> None:
    write_run(tmp_path, {"loss": "BatchHardTripletLoss"}, 7, {}, best_val=2.0, in_grid=False)
    (result,) = load_results(tmp_path)
    assert result.configuration == {"loss": "BatchHardTripletLoss", "dataset": "banking77"}
    assert result.seed == 7


def test_unfinished_and_moved_aside_runs_are_ignored(tmp_path: Path) -> None:
    write_run(tmp_path, {"loss": "a"}, 1, {}, best_val=1.0)
    (tmp_path / "b__seed1").mkdir()
    (tmp_path / "b__seed1.interrupted-20250101-000000").mkdir()
    (tmp_path / "b__seed1.failed.json").write_text("{}")
    assert [r.run_dir.name for r in load_results(tmp_path)] == ["a__seed1"]


def test_history_is_read_from_metrics_csv(tmp_path: Path) -> None:
    write_run(tmp_path, {"loss": "a"}, 1, {}, best_val=1.0, history=[{"step": 0, "train/loss": 2.0}])
    (result,) = load_results(tmp_path)
    assert result.history()["train/loss"].tolist() == [2.0]


def test_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        load_results(tmp_path / "nope")


@pytest.mark.parametrize(
    ("metadata", "commit", "dirty"),
    [
        ({"git_commit": "abc", "git_dirty": True}, "abc", True),
        ({"git_commit": "abc", "git_dirty": False}, "abc", False),
        ({"git_commit": "abc-dirty"}, "abc", True),  # recorded before git_dirty existed
        ({"git_commit": "abc"}, "abc", False),
        ({"git_commit": None, "git_dirty": None}, None, None),
        (None, None, None),  # no run_metadata.json
    ],
)
def test_provenance_of_a_run(tmp_path: Path, metadata: dict | None, commit: str | None, dirty: bool | None) -> None:
    write_run(tmp_path, {"loss": "a"}, 1, {}, best_val=1.0, metadata=metadata)
    (result,) = load_results(tmp_path)
    assert (result.git_commit, result.git_dirty) == (commit, dirty)


def test_before_scores_and_costs(tmp_path: Path) -> None:
    costs = {"wall_time_s": 5.5, "global_step": 12, "peak_memory_mb": 700.0}
    write_run(tmp_path, {"loss": "a"}, 1, {"T": 2.0}, best_val=1.0, before={"T": 1.0}, costs=costs)
    (result,) = load_results(tmp_path)
    assert result.before == {"T": 1.0} and result.costs == costs
