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
    """The run's W&B logger (``--wandb.*``), which ``losslab fit`` adds to the loggers after the run history.

    Its run is started with the full resolved config and the run metadata as W&B config, and continues on
    ``--resume``; other loggers go to ``--trainer.logger``.

    Args:
        mode: ``offline`` (default: written under the run directory, upload later with ``wandb sync``),
            ``online`` (needs ``wandb login`` or ``WANDB_API_KEY``) or ``disabled``.
        project: W&B project.
        entity: W&B entity (user or team); ``None`` uses the account default.
        name: Run name; ``None`` uses the run directory's name.
        group: Run group (the grid runner sets the grid name, ``losslab tune`` the study's).
        tags: Run tags.
        job_type: Kind of run: ``train`` (a fit), ``tune`` (a study's trial); ``eval`` and ``report`` runs
            are made by those commands.
        log_model: Also upload the exported best model (``<run_dir>/model``) as a ``model`` artifact.
    """

    mode: Literal["offline", "online", "disabled"] = "offline"
    project: str = "losslab"
    entity: str | None = None
    name: str | None = None
    group: str | None = None
    tags: list[str] = field(default_factory=list)
    job_type: str = "train"
    log_model: bool = False


class ResilientWandbLogger(WandbLogger):
    """A WandbLogger whose failures are logged as warnings and then switch W&B off for the run.

    Args:
        log_model_export: Upload the exported best model as an artifact (:meth:`log_exported_model`).
        **kwargs: ``WandbLogger`` arguments.
    """

    _failed = False

    def __init__(self, log_model_export: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.log_model_export = log_model_export

    def define_best(self, metric: str, higher_is_better: bool) -> None:
        """Keep the best value of ``metric`` in the run summary (not the last one logged)."""
        summary = "max" if higher_is_better else "min"
        self._guard("define_metric", self.experiment.define_metric, metric, summary=summary)

    def log_exported_model(self, model_dir: Path, name: str) -> None:
        """Upload ``model_dir`` as a ``model`` artifact aliased ``best`` (when ``log_model`` is on)."""
        if not self.log_model_export:
            return

        def upload() -> None:
            import wandb

            artifact = wandb.Artifact(name=name, type="model")
            artifact.add_dir(str(model_dir))
            self.experiment.log_artifact(artifact, aliases=["best"])

        self._guard("log_artifact", upload)

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
    resumed = existing_run_id(run_dir)
    try:
        import wandb

        run = wandb.init(
            project=settings.project,
            entity=settings.entity,
            name=settings.name or run_dir.name,
            group=settings.group,
            tags=list(settings.tags),
            job_type=settings.job_type,
            mode=settings.mode,
            dir=str(run_dir),
            config=config,
            # A resumed fit continues its W&B run (same id) instead of starting another.
            id=resumed,
            resume="allow" if resumed else None,
            reinit="finish_previous",
            # The git commit is recorded by losslab itself (run_metadata), also for runs outside the repo.
            settings=wandb.Settings(init_timeout=60, silent=True, console="off", disable_git=True),
        )
    except Exception as err:  # noqa: BLE001 - a missing/broken W&B must not block training
        log.warning("W&B unavailable (%s); training continues without W&B", err)
        return None
    return ResilientWandbLogger(log_model_export=settings.log_model, experiment=run, save_dir=str(run_dir))


def existing_run_id(run_dir: Path) -> str | None:
    """The id of the W&B run an earlier attempt of this run directory started (``wandb/*run-<stamp>-<id>``)."""
    runs = sorted((run_dir / "wandb").glob("*run-*-*")) if (run_dir / "wandb").is_dir() else []
    return runs[-1].name.rsplit("-", 1)[-1] if runs else None


def finish_wandb() -> None:
    """Finish the active W&B run, if any, so the next fit in this process gets its own run."""
    try:
        import wandb

        if wandb.run is not None:
            wandb.finish()
    except Exception as err:  # noqa: BLE001
        log.warning("W&B finish failed (%s)", err)
