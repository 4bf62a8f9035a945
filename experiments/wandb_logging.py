"""Weights & Biases: offline by default, online on request, never fatal."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pytorch_lightning.loggers import WandbLogger
from pytorch_lightning.utilities.rank_zero import rank_zero_only

log = logging.getLogger(__name__)


@dataclass
class WandbSettings:
    """W&B options (``--wandb.*``).

    Args:
        mode: ``offline`` (default: written under the run directory, upload later with ``wandb sync``),
            ``online`` (needs ``wandb login`` or ``WANDB_API_KEY``) or ``disabled``.
        project: W&B project.
        entity: W&B entity (user or team); ``None`` uses the account default.
        name: Run name; ``None`` uses the run directory's name.
        group: Run group (the grid runner sets the grid name).
        tags: Run tags.
    """

    mode: Literal["offline", "online", "disabled"] = "offline"
    project: str = "losslab"
    entity: str | None = None
    name: str | None = None
    group: str | None = None
    tags: list[str] = field(default_factory=list)


class ResilientWandbLogger(WandbLogger):
    """A WandbLogger whose failures are logged as warnings and then switch W&B off for the run."""

    _failed = False

    def _guard(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> None:
        if self._failed:
            return
        try:
            fn(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 - W&B must never stop training
            self._failed = True
            log.warning("W&B %s failed (%s); continuing without W&B for this run", what, err)

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        """Log metrics, or warn once and stop mirroring if W&B fails."""
        self._guard("log_metrics", super().log_metrics, metrics, step)

    @rank_zero_only
    def log_hyperparams(self, params: Any) -> None:
        """Log hyperparameters, or warn once and stop mirroring if W&B fails."""
        self._guard("log_hyperparams", super().log_hyperparams, params)


def build_wandb_logger(settings: WandbSettings, run_dir: Path, config: dict[str, Any]) -> WandbLogger | None:
    """Start a W&B run for one fit, or return ``None`` (with a warning) when W&B is off or unavailable.

    Args:
        settings: The ``--wandb.*`` options.
        run_dir: The run directory; offline runs are written to ``<run_dir>/wandb``.
        config: The full resolved config plus run metadata, stored as the W&B run config.

    Returns:
        A logger bound to a fresh run (a previous run in this process is finished first).
    """
    # Under DDP, Lightning relaunches the command per further device: one W&B run, from rank 0.
    if settings.mode == "disabled" or rank_zero_only.rank != 0:
        return None
    try:
        import wandb

        run = wandb.init(
            project=settings.project,
            entity=settings.entity,
            name=settings.name or run_dir.name,
            group=settings.group,
            tags=list(settings.tags),
            mode=settings.mode,
            dir=str(run_dir),
            config=config,
            reinit="finish_previous",
            # The git commit is recorded by losslab itself (run_metadata), also for runs outside the repo.
            settings=wandb.Settings(init_timeout=60, silent=True, console="off", disable_git=True),
        )
    except Exception as err:  # noqa: BLE001 - a missing/broken W&B must not block training
        log.warning("W&B unavailable (%s); training continues without W&B", err)
        return None
    return ResilientWandbLogger(experiment=run, save_dir=str(run_dir))


def finish_wandb() -> None:
    """Finish the active W&B run, if any, so the next fit in this process gets its own run."""
    try:
        import wandb

        if wandb.run is not None:
            wandb.finish()
    except Exception as err:  # noqa: BLE001
        log.warning("W&B finish failed (%s)", err)
