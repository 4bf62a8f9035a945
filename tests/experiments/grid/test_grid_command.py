"""``losslab grid`` and ``losslab report`` end to end: one real cell in its own process, tiny model."""

from __future__ import annotations

import json
from pathlib import Path

from experiments.cli import main
from experiments.grid.cell_state import CellState
from experiments.grid.grid_cell import GridCell
from experiments.grid.grid_command import print_cell_states
from experiments.grid.grid_layout import CellStatus


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


def test_slurm_launcher_without_sbatch_is_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    runs = tmp_path / "runs"
    assert main(["grid", "run", "sts_pair_losses", "--runs-dir", str(runs), "--launcher", "slurm"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "losslab grid: error: --launcher slurm: sbatch, squeue, srun, scontrol not found on PATH; run this on a "
        "SLURM login node (or start the local test cluster: bash scripts/slurm_cluster.sh start)"
    )
    assert not (runs / "sts_pair_losses").exists()


def test_more_gpus_per_cell_than_its_devices_is_refused_before_submission(tmp_path: Path, capsys) -> None:
    runs = tmp_path / "runs"
    argv = ["grid", "run", "sts_pair_losses", "--runs-dir", str(runs), "--launcher", "slurm", "--gpus-per-node", "2"]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == (
        "losslab grid: error: cell cosent__seed1: slurm.gpus_per_node=2 but trainer.devices=1 runs 1 process(es) "
        "per node, so 1 GPU(s) would sit idle; set trainer.devices=2 or slurm.gpus_per_node=1"
    )
    assert not (runs / "sts_pair_losses").exists()


def test_the_status_table_says_what_becomes_of_each_cell(capsys) -> None:
    cells = [GridCell(i, f"c{i}", "g", {"loss": f"c{i}"}, 1, ()) for i in range(3)]
    states = [
        CellState(CellStatus.FAILED, False, "5_0", "OUT_OF_MEMORY", "OutOfMemory", 3, "/g/_slurm/5_0_0_log.err"),
        CellState(CellStatus.PENDING, True, "5_1", "PENDING", "Priority"),
        CellState(CellStatus.FAILED, failures=1, log="/g/c2/stderr.log"),
    ]
    print_cell_states(cells, states, max_failures=3)
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert lines[1].split() == ["0", "c0", "failed", "5_0", "OUT_OF_MEMORY", "loss=c0", "seed=1"]
    assert lines[2] == (
        "failed 3/3 (OUT_OF_MEMORY: OutOfMemory), not retried (--retry-failed); log: /g/_slurm/5_0_0_log.err"
    )
    assert lines[3].split()[:5] == ["1", "c1", "pending", "5_1", "PENDING"]
    assert lines[4] == "PENDING: Priority"
    assert lines[5].split()[:4] == ["2", "c2", "failed", "-"]
    assert lines[6] == "failed 1/3, retried by the next grid run; log: /g/c2/stderr.log"
