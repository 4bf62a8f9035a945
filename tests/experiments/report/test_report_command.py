from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from experiments.cli import main
from experiments.run_metadata import git_commit
from tests.experiments.report.run_fixtures import write_run

PLOTS = ("scores_by_task", "validation_curves", "loss_statistics")


def history(offset: float) -> list[dict[str, float]]:
    rows = [
        {"step": s, "train/loss": 3.0 - s / 10 + offset, "train/loss/active_fraction": 1.0 - s / 20} for s in range(10)
    ]
    return rows + [{"step": s, "val/knn_accuracy": 50.0 + s + offset} for s in (4, 9)]


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    root = tmp_path / "runs" / "g"
    for loss, base in (("hard", 80.0), ("all", 70.0)):
        for seed in (1, 2):
            write_run(root, {"loss": loss}, seed, {"STSBenchmark": base + seed}, best_val=base, history=history(seed))
    return root


def test_report_writes_tables_plots_and_provenance(runs_dir: Path, tmp_path: Path, capsys) -> None:
    output = tmp_path / "reports" / "g"
    assert main(["report", str(runs_dir), "--output", str(output), "--wandb", "disabled"]) == 0
    assert "| 1 | hard | 2 | **81.50 ± 0.71** |" in capsys.readouterr().out
    assert "**81.50 ± 0.71**" in (output / "leaderboard.md").read_text()
    rows = list(csv.DictReader(io.StringIO((output / "leaderboard.csv").read_text())))
    assert [r["loss"] for r in rows] == ["hard", "all"]
    assert "\\textbf{81.50 $\\pm$ 0.71}" in (output / "leaderboard.tex").read_text()
    assert "<b>81.50 ± 0.71</b>" in (output / "leaderboard.html").read_text()
    for stem in PLOTS:
        assert (output / f"{stem}.png").read_bytes().startswith(b"\x89PNG")
        assert "<svg" in (output / f"{stem}.svg").read_text()
    provenance = (output / "PROVENANCE.md").read_text()
    assert f"`losslab report {runs_dir} --output {output} --wandb disabled`" in provenance
    assert str(git_commit(Path(__file__).parent) or "unknown") in provenance
    assert "4 finished runs" in provenance


def test_report_of_an_empty_directory_is_an_error(tmp_path: Path, capsys) -> None:
    assert main(["report", str(tmp_path), "--output", str(tmp_path / "out")]) == 2
    assert "losslab report: error:" in capsys.readouterr().err


def test_report_is_mirrored_to_an_offline_wandb_run(runs_dir: Path, tmp_path: Path, capsys) -> None:
    output = tmp_path / "reports" / "g"
    assert main(["report", str(runs_dir), "--output", str(output), "--wandb", "offline"]) == 0
    (run,) = (runs_dir / "_report" / "wandb").glob("offline-run-*")
    assert f"W&B (offline, group g): {run}" in capsys.readouterr().out
    media = run / "files" / "media"
    (table,) = (media / "table").glob("leaderboard_*.table.json")
    assert '"hard"' in table.read_text() and '"all"' in table.read_text()
    assert {p.name.rsplit("_", 2)[0] for p in (media / "images" / "plots").glob("*.png")} == set(PLOTS)
    # The mirror's own files are not mistaken for a run of the grid on the next report.
    assert main(["report", str(runs_dir), "--output", str(output), "--wandb", "disabled"]) == 0
    assert "4 runs, 2 configurations" in capsys.readouterr().out
    assert len(list((runs_dir / "_report" / "wandb").glob("offline-run-*"))) == 1
