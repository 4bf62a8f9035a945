"""LosslabCLI: the Lightning CLI with run directories, automatic bf16 and W&B; everything else is hooks."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from jsonargparse import Namespace
from pytorch_lightning import LightningModule, Trainer
from pytorch_lightning.cli import LightningArgumentParser, LightningCLI, SaveConfigCallback

import lightning_modules.losses  # noqa: F401 - registers every loss so configs can name it by class name
from core.errors import SetupError
from datamodules.embedding_datamodule import EmbeddingDataModule
from experiments.atomic_io import atomic_write_json, atomic_write_text
from experiments.callbacks.run_finalizer import METRICS_FILE, RunFinalizer
from experiments.pml_instantiator import register_pml_instantiator
from experiments.precision import Autocast, resolve_precision
from experiments.run_history_logger import RunHistoryLogger
from experiments.run_metadata import run_metadata
from experiments.wandb_logging import WandbSettings, build_wandb_logger
from lightning_modules.embedding_module import EmbeddingLitModule

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
DEFAULTS = CONFIG_DIR / "defaults.yaml"
TRAINING_SUBCOMMANDS = ("fit", "validate")


class LosslabSetupError(SetupError):
    """A problem with the run itself (run directory, strategy), found before anything is built."""


class RunConfigSaver(SaveConfigCallback):
    """Writes the resolved config and run metadata into the run directory, atomically."""

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        """Write ``config.yaml`` and ``run_metadata.json`` once, on global rank 0."""
        if self.already_saved:
            return
        if trainer.is_global_zero:
            run_dir = Path(trainer.default_root_dir)
            atomic_write_text(run_dir / self.config_filename, self.parser.dump(self.config, skip_none=False))
            atomic_write_json(run_dir / "run_metadata.json", run_metadata())
        self.already_saved = True


class LosslabCLI(LightningCLI):
    """Lightning CLI that adds only wiring: the run directory, precision and W&B.

    Loss/data checks and the sampler choice happen in the LightningModule's ``setup``; MTEB evaluation,
    export and ``metrics.json`` in the :class:`RunFinalizer` callback (``--evaluation.*``); checkpoints in
    :class:`~experiments.callbacks.PrimaryMetricCheckpoint`. A plain ``Trainer.fit`` with the same objects
    therefore does what ``losslab fit`` does.
    """

    @staticmethod
    def subcommands() -> dict[str, set[str]]:
        """``fit`` and ``validate`` only: the module has no test or predict step (``losslab eval`` tests)."""
        return {name: keys for name, keys in LightningCLI.subcommands().items() if name in TRAINING_SUBCOMMANDS}

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        """Add losslab's run options and link the tokenizer to the encoder."""
        parser.add_argument(
            "--run_dir",
            type=str | None,
            default=None,
            help="Run directory (config, metrics, checkpoints, MTEB results, exported model). "
            "Default: runs/<wandb.name or 'run'>/<timestamp>.",
        )
        parser.add_argument(
            "--autocast",
            type=Autocast,
            default="auto",
            help="auto: bf16-mixed where the CPU/GPU runs bf16 natively, else trainer.precision; "
            "bf16: force bf16-mixed; off: use trainer.precision as configured.",
        )
        parser.add_dataclass_arguments(WandbSettings, "wandb")
        parser.add_lightning_class_args(RunFinalizer, "evaluation")
        parser.link_arguments("model.encoder.init_args.model_name_or_path", "data.tokenizer")
        # From the built encoder: its max_seq_length may be "auto" in the config (the model's own length).
        parser.link_arguments("model.encoder.max_seq_length", "data.max_seq_length", apply_on="instantiate")

    @property
    def _cfg(self) -> Namespace:
        return self.config[self.subcommand] if self.subcommand else self.config

    def before_instantiate_classes(self) -> None:
        """Fix the run directory and precision before anything is built."""
        cfg = self._cfg
        if cfg.run_dir is None:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            cfg.run_dir = str(Path("runs") / (cfg.wandb.name or "run") / stamp)
        run_dir = Path(cfg.run_dir)
        if self.subcommand == "fit" and (run_dir / METRICS_FILE).exists():
            raise LosslabSetupError(
                f"run directory {run_dir} already holds a finished run ({METRICS_FILE}); choose another --run_dir"
            )
        strategy = cfg.trainer.strategy
        if isinstance(strategy, str) and any(kind in strategy for kind in ("spawn", "fork", "notebook")):
            raise LosslabSetupError(
                f"--trainer.strategy {strategy} is not supported: its worker processes do not hand the training "
                "history and step count back to the process that writes the run directory; use --trainer.strategy "
                "ddp (Lightning launches one process per device)"
            )
        cfg.trainer.default_root_dir = str(run_dir)
        cfg.trainer.precision = resolve_precision(cfg.autocast, cfg.trainer.precision, cfg.trainer.accelerator)

    def instantiate_classes(self) -> None:
        """Instantiate; a constructor's ``ValueError`` (a bad option) becomes a one-line setup error."""
        try:
            super().instantiate_classes()
        except (ValueError, FileNotFoundError) as err:
            raise SetupError(str(err)) from err

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        """Log to a CSV file in the run directory and, unless disabled, to W&B."""
        cfg = self._cfg
        run_dir = Path(cfg.run_dir)
        # The CSV history sits beside config.yaml in the run directory, which Lightning warns about.
        warnings.filterwarnings("ignore", message="Experiment logs directory .* exists and is not empty")
        loggers: list[Any] = [RunHistoryLogger(save_dir=str(run_dir), name="", version="")]
        config = {**cfg.clone().as_dict(), "run_metadata": run_metadata()}
        wandb_logger = build_wandb_logger(cfg.wandb, run_dir, config)
        if wandb_logger is not None:
            loggers.append(wandb_logger)
        kwargs["logger"] = loggers
        return super().instantiate_trainer(**kwargs)


def _cli_parser_kwargs() -> dict[str, Any]:
    return {sub: {"default_config_files": [str(DEFAULTS)]} for sub in TRAINING_SUBCOMMANDS}


def run_lightning_cli(args: Sequence[str] | None) -> LosslabCLI:
    """Run a Lightning CLI subcommand in-process (used by ``main``, the grid runner and tests).

    Args:
        args: Arguments without the program name; ``None`` reads ``sys.argv``.
    """
    register_pml_instantiator()  # pytorch-metric-learning losses/miners: unset required arguments fail in one line
    return LosslabCLI(
        EmbeddingLitModule,
        EmbeddingDataModule,
        save_config_callback=RunConfigSaver,
        save_config_kwargs={"overwrite": True},
        parser_kwargs=_cli_parser_kwargs(),
        seed_everything_default=42,
        auto_configure_optimizers=False,
        args=None if args is None else list(args),
    )
