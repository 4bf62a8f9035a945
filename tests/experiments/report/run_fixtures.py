"""Run directories as a grid leaves them, written by tests with chosen scores."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import yaml
from scipy import stats

CLEAN = {"git_commit": "0" * 40, "git_dirty": False, "git_dirty_paths": [], "versions": {}}


def write_run(
    root: Path,
    labels: dict[str, str],
    seed: int,
    test: dict[str, float],
    best_val: float,
    history: list[dict[str, float]] | None = None,
    in_grid: bool = True,
    before: dict[str, float] | None = None,
    costs: dict[str, float] | None = None,
    metadata: dict | None = CLEAN,
    name: str | None = None,
) -> Path:
    """A finished run: ``metrics.json``, ``config.yaml``, ``run_metadata.json``, ``metrics.csv``, ``grid_cell.json``.

    ``metadata=None`` leaves ``run_metadata.json`` out (a run whose commit is unknown).
    """
    cell_id = name or "__".join([*labels.values(), f"seed{seed}"])
    run_dir = root / cell_id
    run_dir.mkdir(parents=True)
    metrics = {
        "primary_metric": {"name": "val/knn_accuracy", "higher_is_better": True},
        "best_val": best_val,
        "val": {"val/knn_accuracy": best_val},
        "test": {f"test/mteb/{task}": score for task, score in test.items()},
        "before": {f"test/mteb/{task}": score for task, score in (before or {}).items()},
        **(costs if costs is not None else {"global_step": 10, "wall_time_s": 12.0}),
    }
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    config = {
        "seed_everything": seed,
        "model": {"loss": {"class_path": f"lightning_modules.losses.{labels.get('loss', 'X')}"}},
        "data": {"source": {"class_path": "datamodules.sources.NamedSource", "init_args": {"name": "banking77"}}},
    }
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    if metadata is not None:
        (run_dir / "run_metadata.json").write_text(json.dumps(metadata))
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


def sts_pairs(rng: np.random.Generator, n: int = 60) -> np.ndarray:
    """Gold scores on a 0-5 grid of halves, so they tie as real STS gold scores do."""
    return rng.integers(0, 11, n) / 2.0


def noisy_cosines(gold: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Cosines that follow ``gold`` up to Gaussian noise (more noise: a lower Spearman)."""
    return np.round(gold / 5.0 + rng.normal(0.0, noise, len(gold)), 6)


def write_pairs(run_dir: Path, task: str, gold: np.ndarray, cosine: np.ndarray, stage: str = "after") -> float:
    """Write ``mteb/<stage>/per_pair/<task>.csv`` (shuffled rows) and return its main score, 100 x Spearman."""
    path = run_dir / "mteb" / stage / "per_pair" / f"{task}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    order = np.random.default_rng(len(gold)).permutation(len(gold))  # files need not be sorted by pair_index
    rows = ["pair_index,gold,cosine", *(f"{i},{gold[i]},{cosine[i]}" for i in order)]
    path.write_text("\n".join(rows) + "\n")
    return 100.0 * float(stats.spearmanr(gold, cosine).statistic)


def write_sts_run(
    root: Path, loss: str, seed: int, task: str, gold: np.ndarray, cosine: np.ndarray, **kwargs: object
) -> Path:
    """A run whose ``task`` score is 100 x Spearman of the per-pair file it holds."""
    score = 100.0 * float(stats.spearmanr(gold, cosine).statistic)
    run_dir = write_run(root, {"loss": loss}, seed, {task: score}, best_val=score, **kwargs)
    write_pairs(run_dir, task, gold, cosine)
    return run_dir
