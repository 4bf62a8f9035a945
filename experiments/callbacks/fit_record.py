"""What a finished fit was, for its model card and MTEB metadata: read from the trainer, module and run files."""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import yaml
from torch import nn

from core.batch_formats import LabelKind
from experiments.evaluation.model_meta import ModelProvenance
from experiments.hub.model_card import RunRecord, hub_model_id
from experiments.wandb_logging import ResilientWandbLogger
from lightning_modules import losses
from lightning_modules.embedding_module import EmbeddingLitModule

CONFIG_FILE = "config.yaml"  # written by the CLI's RunConfigSaver at setup


def _init_args(obj: object) -> dict[str, Any]:
    """A plain Python object's constructor arguments, read back from its attributes (simple values only)."""
    if type(obj).__init__ is nn.Module.__init__:
        return {}
    args = {}
    for name in list(inspect.signature(type(obj).__init__).parameters)[1:]:
        value = getattr(obj, name, None)
        if isinstance(value, str | int | float | bool | type(None)):
            args[name] = value
    return args


def _loss(module: EmbeddingLitModule) -> tuple[str, dict[str, Any]]:
    """The loss's class path and arguments: as configured under the CLI, else from the loss object."""
    configured = module.hparams.get("loss")
    if isinstance(configured, dict) and "class_path" in configured:
        return str(configured["class_path"]), dict(configured.get("init_args") or {})
    cls = type(module.loss)
    # The registry's public path, as configs name losses (lightning_modules.losses.CoSENTLoss).
    public = getattr(losses, cls.__name__, None) is cls
    path = f"{losses.__name__}.{cls.__name__}" if public else f"{cls.__module__}.{cls.__qualname__}"
    return path, _init_args(module.loss)


def _dataset_name(trainer: pl.Trainer) -> str:
    source = getattr(trainer.datamodule, "source", None)
    return str(getattr(source, "description", None) or type(trainer.datamodule).__name__)


def fit_provenance(trainer: pl.Trainer, module: EmbeddingLitModule) -> ModelProvenance:
    """The base model and training data of the weights a fit produced, for MTEB's ``ModelMeta``."""
    base = module.encoder.model_name_or_path
    return ModelProvenance(
        adapted_from=hub_model_id(base) or base, training_datasets=frozenset({_dataset_name(trainer)})
    )


def _wandb(trainer: pl.Trainer) -> tuple[str | None, str | None]:
    for logger in trainer.loggers:
        if isinstance(logger, ResilientWandbLogger):
            try:
                run = logger.experiment
                return run.id, None if run.offline else run.url  # an offline run has no page until synced
            except Exception:  # noqa: BLE001 - W&B is a mirror: the card is written without it
                return None, None
    return None, None


def _seed(config_text: str) -> int | None:
    seed = (yaml.safe_load(config_text) or {}).get("seed_everything") if config_text else None
    if seed is None:
        seed = os.environ.get("PL_GLOBAL_SEED")  # set by seed_everything, also in plain Python
    return int(seed) if seed not in (None, True, False) else None


def fit_record(
    trainer: pl.Trainer,
    module: EmbeddingLitModule,
    mteb_before: dict[str, float],
    mteb_after: dict[str, float],
) -> RunRecord:
    """The :class:`~experiments.hub.model_card.RunRecord` of a fit that just ended.

    Args:
        trainer: The trainer (its run directory is ``default_root_dir``).
        module: The trained module.
        mteb_before: MTEB main score ×100 per task before training.
        mteb_after: The same for the exported (best) weights.
    """
    run_dir = Path(trainer.default_root_dir)
    config_file = run_dir / CONFIG_FILE
    config_text = config_file.read_text(encoding="utf-8") if config_file.is_file() else ""
    loss_class, loss_args = _loss(module)
    data = trainer.datamodule
    train_format = getattr(data, "train_format", None)
    columns: tuple[str, ...] = ()
    if train_format is not None:
        label = () if train_format.label_kind == LabelKind.NONE else (train_format.label_kind.value,)
        columns = (*train_format.columns, *label)
    train_data = getattr(data, "train_data", None)
    checkpoint = trainer.checkpoint_callback
    monitor = getattr(checkpoint, "monitor", None)
    best = getattr(checkpoint, "best_model_score", None)
    wandb_id, wandb_url = _wandb(trainer)
    return RunRecord(
        base_model=module.encoder.model_name_or_path,
        base_model_revision=module.encoder.source.commit,
        loss_class=loss_class,
        loss_args=loss_args,
        train_dataset=_dataset_name(trainer),
        train_columns=columns,
        train_rows=len(train_data) if train_data is not None else None,
        steps=trainer.global_step,
        seed=_seed(config_text),
        precision=str(trainer.precision),
        config_text=config_text,
        mteb_before=dict(mteb_before),
        mteb_after=dict(mteb_after),
        best_validation=(monitor, float(best)) if monitor is not None and best is not None else None,
        wandb_run_id=wandb_id,
        wandb_url=wandb_url,
    )
