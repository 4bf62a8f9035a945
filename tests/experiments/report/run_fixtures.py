"""Run directories as a grid leaves them, written by tests with chosen scores."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import yaml


def write_run(
    root: Path,
    labels: dict[str, str],
    seed: int,
    test: dict[str, float],
    best_val: float,
    history: list[dict[str, float]] | None = None,
    in_grid: bool = True,
) -> Path:
    """A finished run: ``metrics.json``, ``config.yaml``, ``metrics.csv`` and (in a grid) ``grid_cell.json``."""
    cell_id = "__".join([*labels.values(), f"seed{seed}"])
    run_dir = root / cell_id
    run_dir.mkdir(parents=True)
    metrics = {
        "primary_metric": {"name": "val/knn_accuracy", "higher_is_better": True},
        "best_val": best_val,
        "val": {"val/knn_accuracy": best_val},
        "test": {f"test/mteb/{task}": score for task, score in test.items()},
        "global_step": 10,
        "wall_time_s": 12.0,
    }
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    config = {
        "seed_everything": seed,
        "model": {"loss": {"class_path": f"lightning_modules.losses.{labels.get('loss', 'X')}"}},
        "data": {"class_path": "datamodules.named_datamodule.NamedDataModule", "init_args": {"name": "banking77"}},
    }
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    if in_grid:
        cell = {"grid": "g", "cell_id": cell_id, "labels": labels, "seed": seed, "loss": "", "dataset": ""}
        (run_dir / "grid_cell.json").write_text(json.dumps(cell))
    if history:
        columns = sorted({key for row in history for key in row})
        with open(run_dir / "metrics.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, columns)
            writer.writeheader()
            writer.writerows(history)
    return run_dir
