from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest

from experiments.report.study_plots import plot_studies, plot_study
from experiments.report.trials_table import TrialRecord
from tests.experiments.report.test_trials_table import study_records

LR = '{"name": "FloatDistribution", "attributes": {"step": null, "low": 1e-05, "high": 0.001, "log": true}}'


def record(number: int, state: str = "COMPLETE", lr: float = 1e-4, value: float | None = 1.0) -> TrialRecord:
    return TrialRecord("mnrl", number, state, value, {"lr": lr}, {"lr": LR})  # type: ignore[arg-type]


def test_history_and_importance_plots_per_loss(tmp_path: Path) -> None:
    plots = plot_studies(study_records("cosent.v2") + study_records("angle"), tmp_path)
    assert [p.loss for p in plots] == ["angle", "cosent.v2"]
    cosent = plots[1]
    assert cosent.notes == ()
    assert sorted(p.name for p in cosent.paths) == [
        "optimization_history_cosent.v2.png", "optimization_history_cosent.v2.svg",
        "param_importances_cosent.v2.png", "param_importances_cosent.v2.svg",
    ]  # fmt: skip
    for path in cosent.paths:
        assert path.stat().st_size > 1000
    assert matplotlib.rcParams["axes.facecolor"] == "white"  # Optuna's global ggplot style did not leak


@pytest.mark.parametrize(
    ("records", "files", "note"),
    [
        ([record(0, "FAIL", value=None), record(1, "PRUNED", value=None)], 0, "no completed trial"),
        ([record(0), record(1, "PRUNED", lr=2e-4, value=None)], 2, "1 completed trial (2 needed)"),
        ([record(0, value=1.0), record(1, value=2.0)], 2, "no parameter varies across the completed trials"),
    ],
    ids=["none complete", "one complete", "constant parameter"],
)
def test_degenerate_studies_say_why_a_plot_is_missing(
    tmp_path: Path, records: list[TrialRecord], files: int, note: str
) -> None:
    plots = plot_study(records, tmp_path)
    assert len(plots.paths) == files and len(list(tmp_path.iterdir())) == files
    assert any(note in line for line in plots.notes) and all(line.startswith("mnrl: ") for line in plots.notes)
