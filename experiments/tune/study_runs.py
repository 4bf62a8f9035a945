"""The ``losslab fit`` arguments of a study's runs: its trials (validation only) and its final-stage cells."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from experiments.grid.grid_cell import GridCell
from experiments.grid.grid_expansion import SEED_KEYS, override_args
from experiments.tune.study_spec import LossEntry, StudySpec

# Trials see validation data only: no MTEB test task, no export, no before-training evaluation.
TRIAL_ONLY = {
    "evaluation.tasks": [],
    "evaluation.before_fit": False,
    "evaluation.export_model": False,
    "evaluation.keep_checkpoints": False,
}


def loss_args(spec: StudySpec, loss: LossEntry, params: Mapping[str, Any], seed: int) -> list[str]:
    """Base configs and overrides, the loss's config, the given parameter values, then the seed."""
    args = [token for path in spec.base_configs for token in ("--config", str(path))]
    args += override_args(spec.overrides)
    args += [token for path in loss.configs for token in ("--config", str(path))]
    args += override_args(loss.overrides)
    args += override_args(dict(params))
    return args + override_args({key: seed for key in SEED_KEYS})


def trial_args(
    spec: StudySpec, loss: LossEntry, params: Mapping[str, Any], run_dir: Path, number: int, extra: Sequence[str]
) -> list[str]:
    """``losslab fit`` arguments of one trial: the study's W&B group, ``job_type=tune``."""
    return [
        "fit",
        *loss_args(spec, loss, params, spec.search_seed),
        *override_args(TRIAL_ONLY),
        *extra,
        *("--run_dir", str(run_dir)),
        *("--wandb.group", spec.name, "--wandb.job_type", "tune", "--wandb.name", f"{loss.label}-trial{number}"),
        *("--wandb.tags", f"[{loss.label},tune]"),
    ]


def final_cells(
    spec: StudySpec, best: Mapping[str, Mapping[str, Any]], extra: Sequence[str], loss_names: Mapping[str, str]
) -> list[GridCell]:
    """One cell per loss and seed with the loss's best parameters, seeds outermost (like a grid).

    The first loss's first seed also evaluates the untouched encoder: the report's baseline row.
    """
    cells: list[GridCell] = []
    for seed in spec.seeds:
        for loss in spec.losses:
            args = loss_args(spec, loss, best[loss.label], seed)
            baseline = not cells
            args += override_args(
                {
                    "evaluation.tasks": list(spec.evaluation_tasks),
                    "evaluation.before_fit": baseline,
                    "evaluation.keep_checkpoints": False,
                }
            )
            cells.append(
                GridCell(
                    index=len(cells),
                    cell_id=f"{loss.label}__seed{seed}",
                    grid=spec.name,
                    labels={"loss": loss.label},
                    seed=seed,
                    config_args=(*args, *extra),
                    loss=loss_names.get(loss.label, ""),
                )
            )
    return cells
