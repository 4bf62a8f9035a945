"""Small study specs written into a test's directory, pointing at the project's own configs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from experiments.lightning_cli import CONFIG_DIR


def write_study(directory: Path, **changes: Any) -> Path:
    """A two-loss BANKING77 study (batch-hard with a margin, soft-margin without), edited by ``changes``."""
    spec: dict[str, Any] = {
        "name": "tiny_study",
        "base": [str(CONFIG_DIR / "data" / "banking77.yaml")],
        "search": {"model.optimizer.init_args.lr": {"log_uniform": [1e-5, 1e-3]}},
        "losses": [
            {
                "label": "batch_hard",
                "config": str(CONFIG_DIR / "loss" / "batch_hard_triplet.yaml"),
                "search": {"model.loss.init_args.margin": {"uniform": [0.1, 2.0]}},
            },
            {"label": "soft_margin", "config": str(CONFIG_DIR / "loss" / "batch_hard_soft_margin_triplet.yaml")},
        ],
        "trials_per_loss": 2,
        "seeds": [1],
        "evaluation_tasks": [],
    }
    spec.update(changes)
    path = directory / "study.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path
