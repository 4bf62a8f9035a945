"""Read finished runs back from their run directories (``metrics.json``, ``grid_cell.json``, ``metrics.csv``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from experiments.grid.grid_cell import CELL_FILE
from experiments.grid.grid_layout import METRICS_FILE

TEST_PREFIX = "test/mteb/"
COST_KEYS = ("wall_time_s", "global_step", "peak_memory_mb")


@dataclass(frozen=True)
class RunResult:
    """One finished run.

    Args:
        run_dir: Its run directory.
        configuration: What identifies its configuration: the grid's axis labels, or for a run made
            outside a grid its loss and dataset.
        seed: Its seed.
        test: MTEB task name -> main score (×100).
        val_metric: Name of the validation primary metric (``val/...``), if any.
        val_higher_is_better: Direction of ``val_metric``.
        best_val: Best validation value (the checkpoint's).
        git_commit: Commit that produced the run, from ``run_metadata.json`` (``None``: not recorded).
        git_dirty: Whether that commit's work tree had changes (``None``: not recorded; runs recorded before
            ``git_dirty`` existed say so with a ``-dirty`` suffix of the commit).
        before: Task -> main score (×100) of the untouched encoder (``evaluation.before_fit``), if evaluated.
        costs: ``wall_time_s``, ``global_step`` and (when recorded) ``peak_memory_mb`` from ``metrics.json``.
    """

    run_dir: Path
    configuration: dict[str, str]
    seed: int | None
    test: dict[str, float]
    val_metric: str | None
    val_higher_is_better: bool
    best_val: float | None
    git_commit: str | None
    git_dirty: bool | None = None
    before: dict[str, float] = field(default_factory=dict)
    costs: dict[str, float] = field(default_factory=dict)

    @property
    def configuration_key(self) -> tuple[str, ...]:
        """The configuration's labels, in axis order (groups seeds of one configuration)."""
        return tuple(self.configuration.values())

    def history(self) -> pd.DataFrame | None:
        """The CSV logger history (one row per step: ``train/loss``, ``train/loss/*``, ``val/*``)."""
        path = self.run_dir / "metrics.csv"
        return pd.read_csv(path) if path.is_file() else None


def _read_json(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _identity(run_dir: Path) -> tuple[dict[str, str], int | None]:
    cell = _read_json(run_dir / CELL_FILE)
    if cell is not None:
        return dict(cell["labels"]), cell["seed"]
    # A run made outside a grid: its own saved config says what it was.
    config = (
        yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
        if (run_dir / "config.yaml").is_file()
        else {}
    )
    loss = (config.get("model") or {}).get("loss") or {}
    source = (config.get("data") or {}).get("source") or {}
    source_class = str(source.get("class_path", "?")).rpartition(".")[2]
    return {
        "loss": str(loss.get("class_path", "?")).rpartition(".")[2],
        "dataset": str((source.get("init_args") or {}).get("name", source_class)),
    }, config.get("seed_everything")


def load_run(run_dir: Path) -> RunResult | None:
    """The run in ``run_dir``, or ``None`` when it has not finished (no ``metrics.json``)."""
    metrics = _read_json(run_dir / METRICS_FILE)
    if metrics is None:
        return None
    configuration, seed = _identity(run_dir)
    primary = metrics.get("primary_metric") or {}
    metadata = _read_json(run_dir / "run_metadata.json") or {}
    commit = metadata.get("git_commit")
    dirty = metadata.get("git_dirty")
    if commit is not None and commit.endswith("-dirty"):
        commit, dirty = commit.removesuffix("-dirty"), True
    elif commit is not None and dirty is None:
        dirty = False  # recorded before git_dirty existed: a clean tree had no suffix
    return RunResult(
        run_dir=run_dir,
        configuration=configuration,
        seed=seed,
        test={k.removeprefix(TEST_PREFIX): float(v) for k, v in metrics.get("test", {}).items()},
        val_metric=primary.get("name"),
        val_higher_is_better=bool(primary.get("higher_is_better", True)),
        best_val=metrics.get("best_val"),
        git_commit=commit,
        git_dirty=None if commit is None else bool(dirty),
        before={k.removeprefix(TEST_PREFIX): float(v) for k, v in (metrics.get("before") or {}).items()},
        costs={k: float(metrics[k]) for k in COST_KEYS if metrics.get(k) is not None},
    )


def load_results(runs_dir: Path) -> list[RunResult]:
    """Every finished run directly under ``runs_dir`` (a grid's directory), in name order.

    Raises:
        ValueError: If ``runs_dir`` is not a directory.
    """
    if not runs_dir.is_dir():
        raise ValueError(f"runs directory {runs_dir} does not exist")
    runs = (load_run(path) for path in sorted(runs_dir.iterdir()) if path.is_dir())
    return [run for run in runs if run is not None]
