"""Estimated wall time of the cells still to run."""

from __future__ import annotations

from collections.abc import Sequence

from experiments.grid.grid_cell import GridCell
from experiments.grid.grid_layout import GridLayout


def estimate_wall_time(
    cells: Sequence[GridCell], to_run: int, layout: GridLayout, stated_seconds: float
) -> tuple[float, str]:
    """Seconds for ``to_run`` cells, from finished cells' ``wall_time_s`` where there are any.

    Args:
        cells: The grid's cells (finished ones give the per-cell time).
        to_run: How many cells are still to run.
        layout: The grid's directory.
        stated_seconds: The stated rough time per cell, used while no cell has finished.

    Returns:
        The estimate in seconds and where the per-cell time came from.
    """
    times = [m["wall_time_s"] for m in (layout.metrics(c) for c in cells) if m and m.get("wall_time_s")]
    if times:
        per_cell = sum(times) / len(times)
        source = f"mean wall_time_s of {len(times)} finished cells, {per_cell:.0f} s each (without start-up)"
    else:
        per_cell = stated_seconds
        source = f"rough stated estimate of {per_cell:.0f} s per cell; no cell has finished yet"
    return to_run * per_cell, source


def format_duration(seconds: float) -> str:
    """``42 s``, ``12 min`` or ``3.5 h``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
