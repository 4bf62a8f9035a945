from __future__ import annotations

import csv
from pathlib import Path

from experiments.report.study_report import build_study_report
from tests.experiments.report.run_fixtures import write_run
from tests.experiments.report.test_trials_table import study_records


def test_study_report_from_final_stage_runs_and_trials(tmp_path: Path) -> None:
    runs_by_loss: dict[str, list[Path]] = {}
    for loss, base in (("cosent", 80.0), ("angle", 78.0)):
        for seed in (1, 2, 3):
            test = {"STSBenchmark": base + seed / 10, "SICK-R": base - 5 + seed / 5}
            costs = {"wall_time_s": 100.0 + seed, "global_step": 90, "peak_memory_mb": 2048.0}
            run = write_run(tmp_path / "final", {"loss": loss}, seed, test, 1.0, in_grid=False, costs=costs,
                            before={"STSBenchmark": 70.0, "SICK-R": 65.0}, name=f"{loss}-{seed}")  # fmt: skip
            runs_by_loss.setdefault(loss, []).append(run)
    trials = study_records("cosent") + study_records("angle", n_trials=1)
    output = tmp_path / "reports" / "study"
    report = build_study_report(runs_by_loss, trials, "STSBenchmark", output)
    assert [row.loss for row in report.board.rows] == ["cosent", "angle"]
    assert report.board.trials == {"cosent": 5, "angle": 1}
    names = {p.name for p in report.files}
    assert {"per_seed.csv", "trials.csv", "trials_search_space.json", "leaderboard.csv", "PROVENANCE.md"} <= names
    assert {
        "optimization_history_cosent.png",
        "param_importances_cosent.png",
        "optimization_history_angle.png",
    } <= names
    assert "param_importances_angle.png" not in names
    markdown = (output / "leaderboard.md").read_text()
    assert (
        "| 1 | cosent | 3 |" in markdown
        and "| 102 | 90 | 2048 | 5 | [config](../../final/cosent-1/config.yaml)" in markdown
    )
    assert "| cosent | 5 | 3 | 1 | 1 | 0 |" in markdown  # tuning: used, complete, pruned, failed, interrupted
    assert "angle: no parameter importances: 1 completed trial (2 needed)" in markdown
    assert "angle: no parameter importances" in (output / "PROVENANCE.md").read_text()
    rows = list(csv.DictReader(open(output / "leaderboard.csv")))
    assert {r["loss"] for r in rows if r["task"] == "STSBenchmark"} == {"cosent", "angle", "baseline"}
