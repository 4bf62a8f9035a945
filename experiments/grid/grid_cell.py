"""One cell of a grid: a single ``losslab fit`` with its labels, seed and arguments."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

CELL_FILE = "grid_cell.json"


@dataclass(frozen=True)
class GridCell:
    """A configuration × seed of a grid, or the reason it cannot run.

    Args:
        index: Position in the grid (``--cell I``).
        cell_id: Run directory name, ``<axis labels joined by __>__seed<k>``.
        grid: The grid's name (W&B group).
        labels: Axis name -> value label.
        seed: The seed.
        config_args: ``losslab fit`` arguments without the run directory and W&B naming.
        loss: Loss class name ('' when the config could not be parsed).
        dataset: Dataset name ('' when the config could not be parsed).
        refused: Why the cell cannot run (incompatible loss and data, bad config), else ``None``.
    """

    index: int
    cell_id: str
    grid: str
    labels: dict[str, str]
    seed: int
    config_args: tuple[str, ...]
    loss: str = ""
    dataset: str = ""
    refused: str | None = None

    @property
    def label(self) -> str:
        """Human-readable ``axis=label`` pairs and the seed."""
        return " ".join([*(f"{axis}={value}" for axis, value in self.labels.items()), f"seed={self.seed}"])

    def fit_args(self, run_dir: Path) -> list[str]:
        """The full ``losslab fit`` argument list for a run in ``run_dir``."""
        tags = [tag for tag in (self.loss, self.dataset, f"seed{self.seed}") if tag]
        return [
            "fit",
            *self.config_args,
            "--run_dir",
            str(run_dir),
            "--wandb.group",
            self.grid,
            "--wandb.name",
            self.cell_id,
            "--wandb.tags",
            "[" + ",".join(tags) + "]",
        ]

    def to_json(self) -> dict[str, Any]:
        """What the runner stores in the run directory so reports need nothing else."""
        return {
            "grid": self.grid,
            "cell_id": self.cell_id,
            "index": self.index,
            "labels": self.labels,
            "seed": self.seed,
            "loss": self.loss,
            "dataset": self.dataset,
            "config_args": list(self.config_args),
        }

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> GridCell:
        """The cell that :meth:`to_json` wrote (a cell that runs was never refused)."""
        return cls(
            index=int(record["index"]),
            cell_id=str(record["cell_id"]),
            grid=str(record["grid"]),
            labels=dict(record["labels"]),
            seed=int(record["seed"]),
            config_args=tuple(record["config_args"]),
            loss=str(record.get("loss", "")),
            dataset=str(record.get("dataset", "")),
        )
