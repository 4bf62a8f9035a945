"""The loss table (``losslab losses``, README), generated from the loss classes themselves."""

from __future__ import annotations

import inspect
import re

from torch import nn

from core.batch_formats import BatchFormat
from lightning_modules.losses import LOSSES
from lightning_modules.losses.base import EmbeddingLoss


def _options(cls: type[EmbeddingLoss]) -> str:
    if cls.__init__ is nn.Module.__init__:
        return "–"
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    parts = []
    for p in params:
        if p.default is inspect.Parameter.empty:
            parts.append(p.name)
        else:
            parts.append(f"{p.name}={p.default!r}")
    return ", ".join(parts)


def _summary(cls: type[EmbeddingLoss]) -> str:
    doc = (inspect.getdoc(cls) or "").strip()
    first = doc.splitlines()[0] if doc else ""
    # Sphinx roles (:class:`~pkg.Name`) read as plain names in a terminal and in Markdown.
    return re.sub(r":\w+:`~?(?:[\w.]*\.)?(\w+)`", r"`\1`", first)


def _formats(cls: type[EmbeddingLoss]) -> str:
    accepts = cls.accepts if isinstance(cls.accepts, frozenset) else frozenset()
    if accepts == frozenset(BatchFormat):
        return "any"
    # Wrapper losses take the formats of the loss they wrap (a property, only known per instance).
    return ", ".join(sorted(f.value for f in accepts)) or "as wrapped loss"


def _sampling(cls: type[EmbeddingLoss]) -> str:
    sampling = cls.sampling
    return sampling.value if hasattr(sampling, "value") else "as wrapped loss"


def loss_table_markdown() -> str:
    """Markdown table: name, accepted batch formats, required sampler, options, one-line summary."""
    lines = ["| loss | batch formats | sampler | options | summary |", "|---|---|---|---|---|"]
    for cls in LOSSES:
        summary = _summary(cls).replace("|", "\\|")
        lines.append(f"| `{cls.__name__}` | {_formats(cls)} | {_sampling(cls)} | {_options(cls)} | {summary} |")
    return "\n".join(lines)
