"""Parse a cell's ``losslab fit`` arguments with the CLI's own parser; build its loss and data, not the encoder."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from typing import Any

from jsonargparse import ArgumentParser, Namespace
from pytorch_lightning.cli import LightningArgumentParser

from datamodules.embedding_datamodule import EmbeddingDataModule
from experiments.lightning_cli import DEFAULTS, LosslabCLI
from experiments.pml_instantiator import register_pml_instantiator
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


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())


class CellConfigParser:
    """Resolves cell configs exactly as ``losslab fit`` would, and checks the loss against the data cheaply.

    The loss and the DataModule are built by jsonargparse from the resolved config (nested ``class_path``
    configs such as a Matryoshka or gradient-cached loss included); the encoder is not, so no model is
    loaded and no data file is read.
    """

    def __init__(self) -> None:
        cli = _ParserOnlyCLI(
            EmbeddingLitModule,
            EmbeddingDataModule,
            save_config_callback=None,
            parser_kwargs={"default_config_files": [str(DEFAULTS)], "exit_on_error": False},
            auto_configure_optimizers=False,
            load_from_checkpoint_support=False,
            run=False,
            args=[],
        )
        self.parser = cli.parser
        # A parser for just the two objects a pre-flight builds, typed as the module and DataModule take them.
        # fail_untyped=False and the PML instantiator, as LosslabCLI's own parser: PML's constructors are untyped.
        register_pml_instantiator()
        self._builder = ArgumentParser(exit_on_error=False)
        self._builder.add_subclass_arguments(EmbeddingLoss, "loss", fail_untyped=False)
        self._builder.add_class_arguments(EmbeddingDataModule, "data", fail_untyped=False)

    def parse(self, args: Sequence[str]) -> Namespace:
        """The resolved config of ``losslab fit <args>``.

        Raises:
            ValueError: With jsonargparse's message when the arguments do not parse.
        """
        try:
            return self.parser.parse_args(list(args))
        except argparse.ArgumentError as err:
            raise ValueError(_one_line(err)) from None

    def build(self, config: Namespace) -> tuple[EmbeddingLoss, EmbeddingDataModule]:
        """The loss and the DataModule of a resolved config (no files read, no encoder).

        Raises:
            ValueError: One line, when a constructor refuses its arguments.
        """
        try:
            built = self._builder.instantiate(Namespace(loss=config.model.loss, data=config.data))
        except (ValueError, TypeError, argparse.ArgumentError) as err:
            raise ValueError(_one_line(err)) from None
        return built.loss, built.data

    def check(self, config: Namespace) -> tuple[str, str]:
        """Build the loss and the DataModule and bind them.

        Returns:
            The loss class name and the dataset name.

        Raises:
            ValueError: Why this loss cannot train on this data (format, sampler, P×K settings, arguments).
        """
        loss, datamodule = self.build(config)
        # The sampler choice that bind_loss announces belongs in the fit's log, not once per cell here.
        rank_zero_log = logging.getLogger("pytorch_lightning.utilities.rank_zero")
        level = rank_zero_log.level
        rank_zero_log.setLevel(logging.WARNING)
        try:
            datamodule.bind_loss(loss)
        except ValueError as err:
            raise ValueError(_one_line(err)) from None
        finally:
            rank_zero_log.setLevel(level)
        return type(loss).__name__, datamodule.source.description
