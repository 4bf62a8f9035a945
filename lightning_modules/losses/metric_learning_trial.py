"""A trial batch through copies of a PML loss and miner: what they cannot train on fails before training."""

from __future__ import annotations

import copy
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from core.batch_formats import BatchFormat
from lightning_modules.losses.index_tuples import column_pairs

# Any size serves a loss without parameters; a loss with parameters is tried at the encoder's size.
TRIAL_DIM = 8
_COLUMNS = {BatchFormat.PAIR: 2, BatchFormat.TRIPLET: 3, BatchFormat.MULTI_NEGATIVE: 4}


def _reason(err: BaseException) -> str:
    """One line for an exception: its first message line, else the failing source line (bare asserts)."""
    text = str(err).strip()
    if text:
        return text.splitlines()[0]
    frames = traceback.extract_tb(err.__traceback__)
    where = f" at `{frames[-1].line}`" if frames and frames[-1].line else ""
    return f"{type(err).__name__}{where}"


@dataclass(frozen=True)
class TrialBatch:
    """A tiny random batch of one format, run through deep copies of a PML loss (and miner).

    Labelled: 4 rows of 2 classes (or 1, for a loss declaring one class), the loss alone, then the miner and
    the loss on the mined ``indices_tuple``. Pair/triplet/multi-negative: 3 rows per column, no labels, the
    structure pairs of :func:`~lightning_modules.losses.index_tuples.column_pairs`. The copies keep the
    loss's own state (PML casts and renormalises weights in place) and the global RNG (restored afterwards)
    as they were.

    Args:
        batch_format: The format to try.
        dim: Embedding size (the encoder's, for a loss with parameters).
        num_classes: The loss's declared number of classes, if any.
        in_batch_negatives: How pair/triplet batches are paired.
    """

    batch_format: BatchFormat
    dim: int
    num_classes: int | None = None
    in_batch_negatives: bool = True

    def run(self, description: str, loss: nn.Module, miner: nn.Module | None) -> None:
        """Raise ``ValueError`` (one line starting with ``description``) naming what the loss or miner refused."""
        loss, miner = copy.deepcopy(loss), copy.deepcopy(miner)
        generator = torch.Generator().manual_seed(0)

        def attempt(step: Callable[[], Any], problem: str) -> Any:
            try:
                return step()
            except Exception as err:  # noqa: BLE001 - any failure of the foreign loss is reported in one line
                raise ValueError(f"{description} {problem}: {_reason(err)}") from err

        with torch.random.fork_rng(devices=[]):
            if self.batch_format is BatchFormat.LABELED:
                labels = torch.arange(4) % min(2, self.num_classes or 2)
                x = torch.randn(4, self.dim, generator=generator)
                sizes = {size for p in loss.parameters() for size in p.shape}
                problem = "cannot train on labeled batches"
                if sizes and self.dim not in sizes:
                    problem = (
                        f"does not fit the encoder's {self.dim}-d embeddings (its embedding_size must be {self.dim})"
                    )
                attempt(lambda: loss(x, labels), problem)
                if miner is not None:
                    indices = attempt(lambda: miner(x, labels), "cannot mine labeled batches")
                    attempt(lambda: loss(x, labels, indices), "cannot use its miner's indices_tuple (remove the miner)")
            else:
                columns = _COLUMNS[self.batch_format]
                x = torch.randn(columns * 3, self.dim, generator=generator)
                indices = column_pairs(columns, 3, self.in_batch_negatives)
                attempt(
                    lambda: loss(x, None, indices),
                    f"cannot train on {self.batch_format.describe()} batches, which carry no class labels "
                    "(it trains on labeled batches)",
                )
