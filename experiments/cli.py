"""The ``losslab`` command: Lightning CLI subcommands (fit/validate/test) plus losslab's own tools."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from jsonargparse import Namespace
from pytorch_lightning import LightningModule, Trainer
from pytorch_lightning.cli import LightningArgumentParser, LightningCLI, SaveConfigCallback
from pytorch_lightning.loggers import CSVLogger
from pytorch_lightning.utilities.rank_zero import rank_zero_only

import lightning_modules.losses  # noqa: F401 - registers every loss so configs can name it by class name
from datamodules.embedding_datamodule import EmbeddingDataModule
from experiments.atomic_io import atomic_write_json, atomic_write_text
from experiments.precision import Autocast, resolve_precision
from experiments.run_finalizer import EvaluationSettings, RunFinalizer
from experiments.run_metadata import run_metadata
from experiments.wandb_logging import WandbSettings, build_wandb_logger, finish_wandb
from lightning_modules.embedding_module import EmbeddingLitModule

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
DEFAULTS = CONFIG_DIR / "defaults.yaml"
TRAINING_SUBCOMMANDS = ("fit", "validate", "test")


class LosslabSetupError(Exception):
    """A configuration or data problem found before training; reported as one line."""


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
    """Lightning CLI with run directories, W&B, automatic bf16, loss/data checks and MTEB evaluation."""

    finalizer: RunFinalizer

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
        parser.add_dataclass_arguments(EvaluationSettings, "evaluation")
        parser.link_arguments("model.encoder.init_args.model_name_or_path", "data.init_args.tokenizer")
        # From the built encoder: its max_seq_length may be "auto" in the config (the model's own length).
        parser.link_arguments("model.encoder.max_seq_length", "data.init_args.max_seq_length", apply_on="instantiate")

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
        if self.subcommand == "fit" and (run_dir / "metrics.json").exists():
            raise LosslabSetupError(
                f"run directory {run_dir} already holds a finished run (metrics.json); choose another --run_dir"
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
        """Instantiate, then check the loss against the data before any training."""
        try:
            super().instantiate_classes()
            if isinstance(self.datamodule, EmbeddingDataModule):
                self.datamodule.bind_loss(self.model.loss)
        except (ValueError, FileNotFoundError, OSError) as err:
            raise LosslabSetupError(str(err)) from err

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        """Log to a CSV file in the run directory and, unless disabled, to W&B."""
        cfg = self._cfg
        run_dir = Path(cfg.run_dir)
        # The CSV history sits beside config.yaml in the run directory, which Lightning warns about.
        warnings.filterwarnings("ignore", message="Experiment logs directory .* exists and is not empty")
        loggers: list[Any] = [CSVLogger(save_dir=str(run_dir), name="", version="")]
        config = {**cfg.clone().as_dict(), "run_metadata": run_metadata()}
        wandb_logger = build_wandb_logger(cfg.wandb, run_dir, config)
        if wandb_logger is not None:
            loggers.append(wandb_logger)
        kwargs["logger"] = loggers
        return super().instantiate_trainer(**kwargs)

    def _setup_data(self, stage: str) -> None:
        # Read and validate the data now so bad files fail before training starts, with a one-line error.
        try:
            self.datamodule.prepare_data()
            self.datamodule.setup(stage)
        except (ValueError, FileNotFoundError, OSError) as err:
            raise LosslabSetupError(str(err)) from err

    def before_fit(self) -> None:
        """Validate the data, then evaluate the untrained encoder for the before/after table."""
        self._setup_data("fit")
        self.finalizer = RunFinalizer(Path(self._cfg.run_dir), self._cfg.evaluation)
        # Under DDP, Lightning relaunches this command once per further device: only rank 0 evaluates.
        if rank_zero_only.rank != 0:
            return
        try:
            self.finalizer.before_fit(self.model)
        except (ValueError, FileNotFoundError) as err:
            raise LosslabSetupError(str(err)) from err

    def after_fit(self) -> None:
        """Export the best weights, run the test tasks, write ``metrics.json`` (on global rank 0)."""
        if not self.trainer.is_global_zero:
            return
        self.finalizer.after_fit(self.trainer, self.model)


def _cli_parser_kwargs() -> dict[str, Any]:
    return {sub: {"default_config_files": [str(DEFAULTS)]} for sub in TRAINING_SUBCOMMANDS}


def run_lightning_cli(args: Sequence[str] | None) -> LosslabCLI:
    """Run a Lightning CLI subcommand in-process (used by ``main``, the grid runner and tests).

    Args:
        args: Arguments without the program name; ``None`` reads ``sys.argv``.
    """
    return LosslabCLI(
        EmbeddingLitModule,
        EmbeddingDataModule,
        subclass_mode_data=True,
        save_config_callback=RunConfigSaver,
        save_config_kwargs={"overwrite": True},
        parser_kwargs=_cli_parser_kwargs(),
        seed_everything_default=42,
        auto_configure_optimizers=False,
        args=None if args is None else list(args),
    )


def _tool_commands() -> dict[str, Callable[[list[str]], int]]:
    from experiments.commands import TOOL_COMMANDS

    return TOOL_COMMANDS


def main(args: Sequence[str] | None = None) -> int:
    """Entry point of ``losslab``.

    ``losslab fit|validate|test ...`` run the Lightning CLI; ``losslab eval|losses|grid|report ...`` run
    losslab's tools. Setup errors (unknown names, bad data, incompatible loss and data) print one line and
    return 2 before any training.

    Args:
        args: Command-line arguments without the program name (``None``: ``sys.argv[1:]``).

    Returns:
        The process exit code.
    """
    argv = list(sys.argv[1:] if args is None else args)
    tools = _tool_commands()
    if argv and argv[0] in tools:
        return tools[argv[0]](argv[1:])
    try:
        run_lightning_cli(args)
    except LosslabSetupError as err:
        print(f"losslab: error: {err}", file=sys.stderr)
        return 2
    finally:
        finish_wandb()
    return 0


if __name__ == "__main__":
    sys.exit(main())
