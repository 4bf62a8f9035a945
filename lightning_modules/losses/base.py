"""The loss contract every losslab loss implements."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar, TypedDict

from torch import Tensor, nn

from core.batch_formats import BatchFormat, BatchSampling, TokenizedBatch

if TYPE_CHECKING:
    from lightning_modules.encoders.hf_encoder import HFEncoder


Statistics = dict[str, Tensor]


class _GroupParameters(TypedDict):
    params: list[nn.Parameter]


class ParameterGroup(_GroupParameters, total=False):
    """One optimizer parameter group of a loss: its ``params`` and, optionally, its own hyperparameters.

    Keys other than ``params`` override the optimizer's settings for this group only (e.g. a larger
    learning rate for class proxies than for the encoder); the learning-rate schedule scales it alike.
    """

    lr: float
    weight_decay: float


class LossOutput:
    """A loss value plus detached per-batch statistics.

    Args:
        loss: The scalar to minimise (carries the graph).
        stats: Detached scalars describing the batch (fraction of active triplets, in-batch accuracy,
            ...), which the LightningModule logs as ``train/loss/<name>``; or a function computing them,
            called on first access only. The module reads them on logging steps only, so a function
            spares their cost on the other steps.
    """

    def __init__(self, loss: Tensor, stats: Statistics | Callable[[], Statistics] | None = None) -> None:
        self.loss = loss
        self._stats = {} if stats is None else stats

    @property
    def stats(self) -> Statistics:
        """The statistics (computed now if they were given as a function)."""
        if callable(self._stats):
            self._stats = self._stats()
        return self._stats


class EmbeddingLoss(nn.Module):
    """Base class: a pure function of embeddings (and labels) to a scalar loss.

    Subclasses set ``accepts`` (the batch formats they can consume) and ``sampling`` (how batches must
    be drawn) and implement :meth:`forward`. Wrapper losses may override both as properties. A loss never
    holds the encoder; a loss that needs more than one embedding per column (per-layer outputs, several
    forward passes, a decoder) overrides :meth:`training_loss`, which receives the encoder explicitly.
    """

    accepts: ClassVar[frozenset[BatchFormat]] = frozenset()
    sampling: ClassVar[BatchSampling] = BatchSampling.RANDOM

    def forward(self, embeddings: Sequence[Tensor], labels: Tensor | None) -> LossOutput:
        """Compute the loss.

        Args:
            embeddings: One ``(B, D)`` tensor per text column, in the order of the batch format.
            labels: The batch labels (see :class:`~core.batch_formats.LabelKind`) or ``None``.

        Returns:
            The scalar loss and detached statistics.
        """
        raise NotImplementedError

    def training_loss(self, encoder: HFEncoder, batch: TokenizedBatch) -> LossOutput:
        """Hook used by the LightningModule: encode the batch and compute the loss.

        The default encodes every text column once. Override it when the loss needs control over the
        forward passes (gradient caching, per-layer embeddings, a second encoder, a decoder).

        Args:
            encoder: The model being trained.
            batch: The collated batch.

        Returns:
            The scalar loss and detached statistics.
        """
        embeddings = [encoder(features) for features in batch.features]
        return self(embeddings, batch.labels)

    def bind_encoder(self, encoder: HFEncoder) -> None:
        """Hook called once by the LightningModule with the encoder it trains (default: nothing to do).

        A loss that needs the encoder beyond the embeddings of a batch (a copy of it, its tokenizer, its
        size for a decoder) overrides this; it must not keep the encoder as a submodule.

        Args:
            encoder: The model being trained.
        """

    def parameter_groups(self) -> list[ParameterGroup]:
        """Hook used by the LightningModule's optimizer: this loss's own parameters, grouped.

        The default is one group holding every parameter of the loss (a classifier head, a decoder, ...)
        with the optimizer's own settings, or no group for a loss without parameters. A loss whose
        parameters want other settings (PML's class proxies, trained with a larger learning rate)
        overrides it. Parameters of the module left out of every group are trained with the encoder.

        Returns:
            The parameter groups (each parameter in at most one).
        """
        params = list(self.parameters())
        return [{"params": params}] if params else []

    def check_format(self, batch_format: BatchFormat) -> None:
        """Raise a clear ``ValueError`` if this loss cannot consume ``batch_format``.

        Args:
            batch_format: The format the DataModule produces.
        """
        if batch_format not in self.accepts:
            accepted = ", ".join(sorted(f.describe() for f in self.accepts))
            name = type(self).__name__
            raise ValueError(f"{name} cannot train on {batch_format.describe()} batches; it accepts: {accepted}.")
