"""A grid spec: base configs × named axes × seeds, read from ``experiments/grids/<name>.yaml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from experiments.grid.spec_fields import as_label, as_list, as_overrides, config_path, resolve_named_file
from experiments.launchers.slurm_options import SlurmOptions

GRIDS_DIR = Path(__file__).resolve().parents[1] / "grids"
AVERAGE = "average"


@dataclass(frozen=True)
class AxisValue:
    """One value of an axis: config files and/or dotted CLI overrides, under a short label.

    Args:
        label: Short name used in cell ids and tables (letters, digits, ``.``, ``_``, ``-``).
        configs: Config files added after the base configs (absolute paths).
        overrides: Dotted CLI overrides (``{"model.loss.init_args.margin": 1.0}``) applied after the configs.
    """

    label: str
    configs: tuple[Path, ...] = ()
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GridAxis:
    """A named list of values; cells are the cross product of all axes (and seeds).

    Args:
        name: Axis name (a leaderboard column), e.g. ``loss``.
        values: The values, in the order they appear in tables.
    """

    name: str
    values: tuple[AxisValue, ...]


@dataclass(frozen=True)
class GridSpec:
    """A loss-comparison grid.

    Args:
        name: Grid name: run directory ``runs/<name>``, W&B group, report directory ``reports/<name>``.
        path: The spec file (paths inside it are relative to its directory).
        base_configs: Config files every cell starts from (after ``defaults.yaml``).
        axes: The axes, crossed in order.
        seeds: Seeds; each sets ``seed_everything`` and the data seed (splits, sampling).
        evaluation_tasks: MTEB test tasks of every cell.
        primary_metric: Leaderboard ranking column: a task name or ``average``.
        overrides: Dotted CLI overrides for every cell (before the axis overrides).
        estimate_minutes_per_cell: Stated rough wall time of a cell, used until cells have finished.
        description: What the grid compares.
        slurm: How each cell is submitted with ``--launcher slurm`` (partition, time, CPUs, GPUs, memory).
    """

    name: str
    path: Path
    base_configs: tuple[Path, ...]
    axes: tuple[GridAxis, ...]
    seeds: tuple[int, ...]
    evaluation_tasks: tuple[str, ...]
    primary_metric: str = AVERAGE
    overrides: dict[str, Any] = field(default_factory=dict)
    estimate_minutes_per_cell: float = 10.0
    description: str = ""
    slurm: SlurmOptions = field(default_factory=SlurmOptions)

    @classmethod
    def from_yaml(cls, path: str | Path) -> GridSpec:
        """Read and validate a spec file.

        Raises:
            ValueError: Naming the offending key and what was expected.
        """
        path = Path(path).resolve()
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: expected a mapping with name, base, axes, seeds, evaluation_tasks")
        known = {
            "name",
            "description",
            "base",
            "axes",
            "seeds",
            "evaluation_tasks",
            "primary_metric",
            "overrides",
            "estimate_minutes_per_cell",
            "slurm",
        }
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"{path}: unknown keys {unknown}; expected some of {sorted(known)}")
        name = as_label(raw.get("name"), f"{path}: name")
        axes = tuple(_axis(path, item) for item in as_list(raw.get("axes"), f"{path}: axes"))
        if not axes:
            raise ValueError(f"{path}: axes is empty; expected at least one axis")
        seeds = tuple(as_list(raw.get("seeds", [42]), f"{path}: seeds"))
        if not seeds or not all(isinstance(s, int) for s in seeds) or len(set(seeds)) != len(seeds):
            raise ValueError(f"{path}: seeds={seeds!r}; expected a non-empty list of distinct integers")
        tasks = tuple(str(t) for t in as_list(raw.get("evaluation_tasks", []), f"{path}: evaluation_tasks"))
        primary = str(raw.get("primary_metric", AVERAGE))
        if primary != AVERAGE and primary not in tasks:
            raise ValueError(f"{path}: primary_metric={primary!r}; expected 'average' or one of {list(tasks)}")
        return cls(
            name=name,
            path=path,
            base_configs=tuple(config_path(path, c) for c in as_list(raw.get("base", []), f"{path}: base")),
            axes=axes,
            seeds=seeds,
            evaluation_tasks=tasks,
            primary_metric=primary,
            overrides=as_overrides(raw.get("overrides"), f"{path}: overrides"),
            estimate_minutes_per_cell=float(raw.get("estimate_minutes_per_cell", 10.0)),
            description=str(raw.get("description", "")).strip(),
            slurm=SlurmOptions.from_mapping(raw.get("slurm"), f"{path}: slurm"),
        )


def resolve_spec_path(spec: str) -> Path:
    """A spec file path, or the name of a built-in grid (``triplet_variants``).

    Raises:
        ValueError: If neither a file nor a built-in grid has that name.
    """
    return resolve_named_file(spec, GRIDS_DIR, "grid")


def _axis(spec_path: Path, raw: Any) -> GridAxis:
    if not isinstance(raw, dict) or set(raw) != {"name", "values"}:
        raise ValueError(f"{spec_path}: axis {raw!r}: expected a mapping with exactly 'name' and 'values'")
    name = as_label(raw["name"], f"{spec_path}: axis name")
    values = tuple(_axis_value(spec_path, name, v) for v in as_list(raw["values"], f"{spec_path}: axis {name}"))
    labels = [v.label for v in values]
    if not values or len(set(labels)) != len(labels):
        raise ValueError(f"{spec_path}: axis {name} labels {labels}: expected a non-empty list of distinct labels")
    return GridAxis(name=name, values=values)


def _axis_value(spec_path: Path, axis: str, raw: Any) -> AxisValue:
    what = f"{spec_path}: axis {axis} value {raw!r}"
    if not isinstance(raw, dict) or not set(raw) <= {"label", "config", "overrides"} or "label" not in raw:
        raise ValueError(f"{what}: expected a mapping with label and config and/or overrides")
    configs = raw.get("config", [])
    configs = configs if isinstance(configs, list) else [configs]
    overrides = as_overrides(raw.get("overrides"), what)
    if not configs and not overrides:
        raise ValueError(f"{what}: expected a config file and/or overrides")
    return AxisValue(
        label=as_label(raw["label"], what),
        configs=tuple(config_path(spec_path, c) for c in configs),
        overrides=overrides,
    )
