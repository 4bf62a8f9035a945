"""LosslabCLI: the Lightning CLI with run directories, automatic bf16 and W&B; everything else is hooks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from jsonargparse import DefaultHelpFormatter, Namespace
from pytorch_lightning import LightningModule, Trainer
from pytorch_lightning.cli import LightningArgumentParser, LightningCLI, SaveConfigCallback
from pytorch_lightning.utilities import rank_zero_info

import lightning_modules.losses  # noqa: F401 - registers every loss so configs can name it by class name
from core.errors import SetupError
from datamodules.embedding_datamodule import EmbeddingDataModule
from experiments.atomic_io import atomic_write_json, atomic_write_text
from experiments.callbacks.primary_metric_checkpoint import PrimaryMetricCheckpoint
from experiments.callbacks.run_finalizer import METRICS_FILE, RunFinalizer
from experiments.console import quiet_run_directory_notices
from experiments.pml_instantiator import register_pml_instantiator
from experiments.precision import Autocast, resolve_precision
from experiments.run_history_logger import with_run_history
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

    Loggers: ``trainer.logger`` always starts with the run's history
    (:class:`~experiments.run_history_logger.RunHistoryLogger`, ``<run_dir>/metrics.csv``; checkpoints follow
    its directory), followed by the loggers given in the config or on the command line
    (``--trainer.logger+=pytorch_lightning.loggers.TensorBoardLogger``). The saved ``config.yaml`` lists
    them as the run has them. The W&B logger is configured by ``--wandb.*`` (its run is started with the
    full config) and added after the history.
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
        cfg.trainer.logger = with_run_history(cfg.trainer.logger, run_dir)
        quiet_run_directory_notices(run_dir)
        wandb = "off" if cfg.wandb.mode == "disabled" else f"W&B {cfg.wandb.mode}"
        rank_zero_info(f"losslab {self.subcommand}: run directory {run_dir} ({wandb})")

    def instantiate_classes(self) -> None:
        """Instantiate; a constructor's ``ValueError`` (a bad option) becomes a one-line setup error."""
        try:
            super().instantiate_classes()
            self._resolve_checkpoint_monitors()
        except (ValueError, OSError) as err:  # OSError: a missing file, a model the Hub cannot serve
            raise SetupError(str(err)) from err

    def _resolve_checkpoint_monitors(self) -> None:
        """Resolve ``PrimaryMetricCheckpoint`` monitors from the data now, so the saved config names them."""
        entries, built = self._cfg.trainer.callbacks, self.config_init[self.subcommand]["trainer"]["callbacks"]
        entries = entries if isinstance(entries, list) else [entries] if entries else []
        built = built if isinstance(built, list) else [built] if built else []
        # The built list starts with the configured callbacks (the trainer appended its extra ones in place).
        for entry, callback in zip(entries, built[: len(entries)], strict=True):
            if isinstance(callback, PrimaryMetricCheckpoint):
                callback.resolve_monitor(self.datamodule)
                entry.init_args.monitor, entry.init_args.mode = callback.monitor, callback.mode

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        """The configured loggers (the run history first) plus, unless disabled, the W&B logger second."""
        cfg = self._cfg
        loggers: list[Any] = list(self.config_init[self.subcommand]["trainer"]["logger"])
        config = {**cfg.clone().as_dict(), "run_metadata": run_metadata()}
        wandb_logger = build_wandb_logger(cfg.wandb, Path(cfg.run_dir), config)
        if wandb_logger is not None:
            loggers.insert(1, wandb_logger)
        kwargs["logger"] = loggers
        return super().instantiate_trainer(**kwargs)


class _KeepLineBreaks(DefaultHelpFormatter):
    """jsonargparse's help formatter, printing the description and epilog lines as written (a tool table)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "".join(indent + line for line in text.splitlines(keepends=True))


def _cli_parser_kwargs(epilog: str | None) -> dict[str, Any]:
    main_parser = {
        "prog": "losslab",
        "description": "losslab: train and evaluate sentence embeddings, compare losses (Lightning CLI).",
        "epilog": epilog,
        "formatter_class": _KeepLineBreaks,
    }
    return {**main_parser, **{sub: {"default_config_files": [str(DEFAULTS)]} for sub in TRAINING_SUBCOMMANDS}}


def run_lightning_cli(args: Sequence[str] | None, epilog: str | None = None) -> LosslabCLI:
    """Run a Lightning CLI subcommand in-process (used by ``main``, the grid runner and tests).

    Args:
        args: Arguments without the program name; ``None`` reads ``sys.argv``.
        epilog: Text after the subcommand list of ``losslab --help`` (``main`` lists losslab's own tools).
    """
    register_pml_instantiator()  # pytorch-metric-learning losses/miners: unset required arguments fail in one line
    return LosslabCLI(
        EmbeddingLitModule,
        EmbeddingDataModule,
        save_config_callback=RunConfigSaver,
        save_config_kwargs={"overwrite": True},
        parser_kwargs=_cli_parser_kwargs(epilog),
        seed_everything_default=42,
        auto_configure_optimizers=False,
        args=None if args is None else list(args),
    )
