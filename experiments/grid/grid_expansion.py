"""Expand a grid spec into cells, refusing incompatible loss × data cells with the reason."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any

from experiments.grid.cell_config_parser import CellConfigParser
from experiments.grid.grid_cell import GridCell
from experiments.grid.grid_spec import AxisValue, GridSpec

# A seed sets the global seed (initialisation, dropout) and the data seed (splits, sampling order).
SEED_KEYS = ("seed_everything", "data.seed")


def override_args(overrides: dict[str, Any]) -> list[str]:
    """Dotted overrides as CLI tokens: ``{"a.b": 1}`` -> ``["--a.b", "1"]`` (non-strings as JSON)."""
    args = []
    for key, value in overrides.items():
        args += [f"--{key.removeprefix('--')}", value if isinstance(value, str) else json.dumps(value)]
    return args


def _cell_args(spec: GridSpec, values: Sequence[AxisValue], seed: int, extra_args: Sequence[str]) -> list[str]:
    args = [token for path in spec.base_configs for token in ("--config", str(path))]
    args += override_args(spec.overrides)
    for value in values:
        args += [token for path in value.configs for token in ("--config", str(path))]
        args += override_args(value.overrides)
    args += override_args({key: seed for key in SEED_KEYS})
    args += override_args({"evaluation.tasks": list(spec.evaluation_tasks)})
    return args + list(extra_args)


def expand_grid(
    spec: GridSpec, extra_args: Sequence[str] = (), parser: CellConfigParser | None = None
) -> list[GridCell]:
    """All cells of the grid, seeds outermost (every configuration gets seed 1 before any gets seed 2).

    Args:
        spec: The grid.
        extra_args: ``losslab fit`` arguments appended to every cell (smoke-run limits, a different model).
        parser: A parser to reuse (building one costs a fraction of a second).

    Returns:
        The cells; a cell whose config does not parse, or whose loss cannot train on its data, carries
        the reason in ``refused``.
    """
    parser = parser or CellConfigParser()
    cells = []
    combos = list(itertools.product(*(axis.values for axis in spec.axes)))
    for seed in spec.seeds:
        for values in combos:
            labels = {axis.name: value.label for axis, value in zip(spec.axes, values, strict=True)}
            args = _cell_args(spec, values, seed, extra_args)
            loss = dataset = ""
            refused = None
            try:
                loss, dataset = parser.check(parser.parse(args))
            except ValueError as err:
                refused = str(err)
            cells.append(
                GridCell(
                    index=len(cells),
                    cell_id="__".join([*labels.values(), f"seed{seed}"]),
                    grid=spec.name,
                    labels=labels,
                    seed=seed,
                    config_args=tuple(args),
                    loss=loss,
                    dataset=dataset,
                    refused=refused,
                )
            )
    return cells
