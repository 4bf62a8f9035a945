from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import numpy as np
import pytest

from experiments.cli import main
from experiments.run_metadata import git_commit
from tests.experiments.report.run_fixtures import noisy_cosines, sts_pairs, write_run, write_sts_run

PLOTS = ("scores_by_task", "validation_curves", "loss_statistics")
DIRTY = {"git_commit": "1" * 40, "git_dirty": True, "git_dirty_paths": ["core/x.py"], "versions": {}}


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


def git_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def test_report_writes_tables_plots_and_provenance(runs_dir: Path, tmp_path: Path, capsys) -> None:
    output = tmp_path / "reports" / "g"
    assert main(["report", str(runs_dir), "--output", str(output), "--wandb", "disabled"]) == 0
    # Two seeds: mean 81.5, t_{0.975,1} = 12.706 x s/sqrt(2) = 0.5: [75.15, 87.85].
    assert "| 1 | hard | 2 | **81.50** [75.15, 87.85] |" in capsys.readouterr().out
    assert "| 1 | hard | 2 | **81.50** [75.15, 87.85] |" in (output / "leaderboard.md").read_text()
    rows = list(csv.DictReader(io.StringIO((output / "leaderboard.csv").read_text())))
    assert [r["loss"] for r in rows if r["task"] == "STSBenchmark"] == ["hard", "all"]
    assert "\\textbf{81.50} [75.15, 87.85]" in (output / "leaderboard.tex").read_text()
    assert "<b>81.50</b> [75.15, 87.85]" in (output / "leaderboard.html").read_text()
    per_seed = list(csv.DictReader(io.StringIO((output / "per_seed.csv").read_text())))
    assert {(r["loss"], r["seed"], float(r["score"])) for r in per_seed if r["task"] == "STSBenchmark"} == {
        ("hard", "1", 81.0), ("hard", "2", 82.0), ("all", "1", 71.0), ("all", "2", 72.0)
    }  # fmt: skip
    for stem in PLOTS:
        assert (output / f"{stem}.png").read_bytes().startswith(b"\x89PNG")
        assert "<svg" in (output / f"{stem}.svg").read_text()
    provenance = (output / "PROVENANCE.md").read_text()
    assert f"`losslab report {runs_dir} --output {output} --wandb disabled`" in provenance
    assert str(git_commit(Path(__file__).parent) or "unknown") in provenance
    assert "4 finished runs" in provenance and "WARNING" not in provenance


def test_report_of_a_grid_spec_with_pair_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "pairs.yaml"
    spec.write_text(
        "name: pairs\naxes:\n  - name: loss\n    values:\n      - {label: a, overrides: {x: 1}}\n"
        "      - {label: b, overrides: {x: 2}}\nevaluation_tasks: [STSBenchmark]\nprimary_metric: STSBenchmark\n"
    )
    rng = np.random.default_rng(0)
    gold = sts_pairs(rng, 60)
    for loss, noise in (("a", 0.1), ("b", 0.5)):
        for seed in (1, 2):
            write_sts_run(
                tmp_path / "runs" / "pairs", loss, seed, "STSBenchmark", gold, noisy_cosines(gold, noise, rng)
            )
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(spec), "--wandb", "disabled", "--bootstrap-resamples", "99"]) == 0
    table = csv.DictReader(open(tmp_path / "reports" / "pairs" / "leaderboard.csv"))
    rows = {r["loss"]: r for r in table if r["task"] == "STSBenchmark"}
    assert rows["a"]["pairs_ci_low"] and float(rows["b"]["p_pairs"]) == pytest.approx(1 / 100)
    # Two seeds leave the seed test weak; b counts as worse only if both tests say so.
    assert float(rows["b"]["p_vs_best"]) == max(float(rows["b"]["p_seeds"]), float(rows["b"]["p_pairs"]))
    assert "99 resamples, seed 0 (STSBenchmark)" in (tmp_path / "reports" / "pairs" / "PROVENANCE.md").read_text()


def test_reports_from_a_dirty_tree_are_refused_where_they_are_committed(tmp_path: Path, capsys) -> None:
    repo = git_repo(tmp_path / "checkout")
    runs = repo / "runs" / "g"
    write_run(runs, {"loss": "a"}, 1, {"T": 80.0}, best_val=1.0, metadata=DIRTY)
    write_run(runs, {"loss": "b"}, 1, {"T": 70.0}, best_val=1.0, metadata=None)  # no recorded commit
    committed = repo / "reports" / "g"
    assert main(["report", str(runs), "--output", str(committed), "--wandb", "disabled"]) == 2
    error = capsys.readouterr().err
    assert f"losslab report: error: refusing to write {committed} (a committed report location): 2 of 2 runs" in error
    assert "--allow-dirty" in error and not committed.exists()
    # Elsewhere (not reports/ of a work tree) the same runs make a report, flagged.
    assert main(["report", str(runs), "--output", str(repo / "scratch"), "--wandb", "disabled"]) == 0
    assert "> **WARNING: 2 of 2 runs" in (repo / "scratch" / "leaderboard.md").read_text()
    assert main(["report", str(runs), "--output", str(committed), "--wandb", "disabled", "--allow-dirty"]) == 0
    provenance = (committed / "PROVENANCE.md").read_text()
    assert "> **WARNING: 2 of 2 runs were made on a dirty working tree" in provenance
    assert f"{'1' * 40} **(dirty tree)**" in provenance and "**no recorded commit**" in provenance
    assert "> **WARNING" in (committed / "leaderboard.md").read_text()


def test_clean_runs_may_be_reported_into_the_committed_location(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "checkout")
    write_run(repo / "runs" / "g", {"loss": "a"}, 1, {"T": 80.0}, best_val=1.0)
    assert (
        main(["report", str(repo / "runs" / "g"), "--output", str(repo / "reports" / "g"), "--wandb", "disabled"]) == 0
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [(["--alpha", "1.5"], "--alpha 1.5: expected a level between 0 and 1"),
     (["--bootstrap-resamples", "0"], "--bootstrap-resamples 0: expected at least 1")],
)  # fmt: skip
def test_bad_settings_are_errors(runs_dir: Path, tmp_path: Path, capsys, flags: list[str], message: str) -> None:
    assert main(["report", str(runs_dir), "--output", str(tmp_path / "out"), *flags]) == 2
    assert message in capsys.readouterr().err


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
