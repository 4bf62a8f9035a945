"""pytorch-metric-learning's per-call records, read as losslab loss statistics."""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from pytorch_metric_learning.miners import BaseMiner
from torch import Tensor, nn

Record = float | int | Tensor
_MINER_COUNTS = ("num_pos_pairs", "num_neg_pairs", "num_triplets")


@contextmanager
def sub_losses(loss: nn.Module) -> Iterator[dict[str, Tensor]]:
    """Capture, during the ``with`` block, every sub-loss that ``loss`` reduces (detached).

    A PML loss with several sub-losses (ProxyAnchor's ``pos_loss``/``neg_loss``, a regulariser's
    ``weight_reg_loss``, ...) reduces each with its own reducer of a ``MultipleReducers`` and returns only
    their sum; forward hooks on those reducers read each reduced term on its way. A loss with a single
    sub-loss yields nothing (its one term is the loss itself).

    Args:
        loss: A PML ``BaseMetricLossFunction``.

    Yields:
        A dict filled with ``{sub-loss name: value}`` as the loss runs.
    """
    captured: dict[str, Tensor] = {}
    reducers = getattr(getattr(loss, "reducer", None), "reducers", None)
    if not isinstance(reducers, nn.ModuleDict):
        yield captured
        return

    def hook(_module: nn.Module, args: tuple[Any, ...], output: Tensor) -> None:
        # A sub-reducer receives ({sub-loss name: its loss info}, embeddings, labels).
        for name in args[0]:
            captured[name] = output.detach()

    handles = [reducer.register_forward_hook(hook) for reducer in (*reducers.values(), loss.reducer.default_reducer)]
    try:
        yield captured
    finally:
        for handle in handles:
            handle.remove()


def recorded_stats(
    module: nn.Module | None, prefix: str = "", mined: tuple[Tensor, ...] | None = None
) -> dict[str, Record]:
    """The current values of PML's recorded statistics of ``module`` and its submodules.

    PML modules list what they record per call in ``_record_these_stats`` (filled when built with
    ``collect_stats=True``, e.g. ArcFace's ``avg_angle``, a miner's ``hardest_triplet``). A miner also sets
    ``num_pos_pairs``/``num_neg_pairs`` (pairs) or ``num_triplets`` (triplets) on every call: those of the
    kind it returned are kept, the others (reset to 0) dropped. Values are read now (the next call
    overwrites them); non-numeric records are skipped.

    Args:
        module: A PML loss, miner, distance, reducer or regulariser (``None``: nothing).
        prefix: Prepended to every name (``"miner."``).
        mined: What a miner ``module`` returned this call.

    Returns:
        ``{prefix + "<submodule path>.<record>": value}`` (the module's own records without a path).
    """
    if module is None:
        return {}
    values: dict[str, Record] = {}
    for path, sub in module.named_modules():
        names = list(getattr(sub, "_record_these_stats", ()))
        if isinstance(sub, BaseMiner) and mined is not None:
            counts = ("num_triplets",) if len(mined) == 3 else ("num_pos_pairs", "num_neg_pairs")
            names = [n for n in names if n not in _MINER_COUNTS] + list(counts)
        for name in names:
            value = getattr(sub, name, None)
            key = f"{prefix}{path + '.' if path else ''}{name}"
            if isinstance(value, Tensor) and value.numel() == 1:
                values[key] = value.detach()
            elif isinstance(value, numbers.Real) and not isinstance(value, bool):
                values[key] = value
    return values


def as_statistics(records: dict[str, Record]) -> dict[str, Tensor]:
    """Records as detached float32 scalar tensors, the form of losslab statistics."""
    return {
        name: value.detach().float().reshape(()) if isinstance(value, Tensor) else torch.tensor(float(value))
        for name, value in records.items()
    }
