"""``losslab grid`` and ``losslab report`` end to end: one real cell in its own process, tiny model."""

from __future__ import annotations

import json
from pathlib import Path

from experiments.cli import main


def test_grid_run_list_and_report(tiny_model_dir: Path, data_dir: Path, tmp_path: Path, capsys) -> None:
    runs = tmp_path / "runs"
    overrides = [
        *("--model.encoder.init_args.model_name_or_path", str(tiny_model_dir)),
        *("--data.source.init_args.data_dir", str(data_dir)),
        *("--evaluation.tasks", "[]", "--evaluation.export_model", "false", "--wandb.mode", "disabled"),
    ]
    common = ["sts_pair_losses", "--runs-dir", str(runs), *overrides]
    assert main(["grid", "run", *common, "--cell", "2", "--max-steps", "2", "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert "to run: 1 of 1 selected cells" in dry
    assert "--data.conversion.normalize_scores true" in dry
    assert not (runs / "sts_pair_losses").exists()

    assert main(["grid", "run", *common, "--cell", "2", "--max-steps", "2"]) == 0
    run_dir = runs / "sts_pair_losses" / "cosine_similarity__seed1"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["global_step"] == 2
    config = (run_dir / "config.yaml").read_text()
    assert "normalize_scores: true" in config
    assert "group: sts_pair_losses" in config

    capsys.readouterr()
    assert main(["grid", "list", *common]) == 0
    listing = {line.split()[1]: line.split()[2] for line in capsys.readouterr().out.splitlines()[2:]}
    assert listing == {
        "cosent__seed1": "pending",
        "angle__seed1": "pending",
        "cosine_similarity__seed1": "done",
        "contrastive__seed1": "pending",
        "online_contrastive__seed1": "pending",
    }

    # A second run of the same cell finds it done and starts nothing.
    assert main(["grid", "run", *common, "--cell", "2", "--max-steps", "2"]) == 0
    assert "skipped (done)" in capsys.readouterr().out

    output = tmp_path / "report"
    assert main(["report", "sts_pair_losses", "--runs-dir", str(runs), "--output", str(output)]) == 0
    assert "| 1 | cosine_similarity | 1 |" in (output / "leaderboard.md").read_text()


def test_bad_spec_is_a_one_line_error(capsys) -> None:
    assert main(["grid", "list", "no_such_grid"]) == 2
    assert capsys.readouterr().err.startswith("losslab grid: error: grid spec 'no_such_grid'")
