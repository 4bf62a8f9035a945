"""Parse a cell's ``losslab fit`` arguments with the CLI's own parser, without building the encoder."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from typing import Any

from jsonargparse import Namespace
from pytorch_lightning.cli import LightningArgumentParser

from datamodules.embedding_datamodule import EmbeddingDataModule
from experiments.cli import DEFAULTS, LosslabCLI
from lightning_modules.embedding_module import EmbeddingLitModule
from lightning_modules.losses.base import EmbeddingLoss


class _ParserOnlyCLI(LosslabCLI):
    """The fit parser of :class:`LosslabCLI` (same arguments, links and defaults); parses and builds nothing."""

    def parse_arguments(self, parser: LightningArgumentParser, args: Any) -> None:
        # Only the parser is wanted; ``seed_everything=False`` keeps LightningCLI from seeding this process.
        self.config = Namespace(seed_everything=False)

    def before_instantiate_classes(self) -> None:
        """Nothing to prepare: no run is started."""

    def instantiate_classes(self) -> None:
        """Nothing is built here: :class:`CellConfigParser` builds only the loss and the DataModule."""


def _import(class_path: str) -> type:
    module_name, _, name = class_path.rpartition(".")
    module = __import__(module_name, fromlist=[name])
    return getattr(module, name)


def _init_args(group: Namespace) -> dict[str, Any]:
    return {} if group.get("init_args") is None else group.init_args.as_dict()


class CellConfigParser:
    """Resolves cell configs exactly as ``losslab fit`` would, and checks the loss against the data cheaply."""

    def __init__(self) -> None:
        cli = _ParserOnlyCLI(
            EmbeddingLitModule,
            EmbeddingDataModule,
            subclass_mode_data=True,
            save_config_callback=None,
            parser_kwargs={"default_config_files": [str(DEFAULTS)], "exit_on_error": False},
            auto_configure_optimizers=False,
            load_from_checkpoint_support=False,
            run=False,
            args=[],
        )
        self.parser = cli.parser

    def parse(self, args: Sequence[str]) -> Namespace:
        """The resolved config of ``losslab fit <args>``.

        Raises:
            ValueError: With jsonargparse's message when the arguments do not parse.
        """
        try:
            return self.parser.parse_args(list(args))
        except argparse.ArgumentError as err:
            raise ValueError(" ".join(str(err).split())) from None

    def check(self, config: Namespace) -> tuple[str, str]:
        """Build the loss and the DataModule (no files read, no encoder) and bind them.

        Returns:
            The loss class name and the dataset name.

        Raises:
            ValueError: Why this loss cannot train on this data (format, sampler, P×K settings, arguments).
        """
        loss_class = _import(config.model.loss.class_path)
        data_class = _import(config.data.class_path)
        # The sampler choice that bind_loss announces belongs in the fit's log, not once per cell here.
        rank_zero_log = logging.getLogger("pytorch_lightning.utilities.rank_zero")
        level = rank_zero_log.level
        rank_zero_log.setLevel(logging.WARNING)
        try:
            loss: EmbeddingLoss = loss_class(**_init_args(config.model.loss))
            datamodule: EmbeddingDataModule = data_class(**_init_args(config.data))
            datamodule.bind_loss(loss)
        except TypeError as err:
            raise ValueError(str(err)) from None
        finally:
            rank_zero_log.setLevel(level)
        return loss_class.__name__, str(getattr(datamodule, "name", data_class.__name__))
