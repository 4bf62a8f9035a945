"""Formats a data file can be read in: every :class:`BatchFormat`, plus raw NLI pairs.

NLI pairs (premise, hypothesis, entailment/neutral/contradiction) are no batch format any loss consumes:
they are only read to be converted (``nli_to_triplets``, ``nli_to_positive_pairs``).
"""

from __future__ import annotations

from typing import Literal

from core.batch_formats import BatchFormat, LabelKind

NLI: Literal["nli"] = "nli"
NLI_COLUMNS: tuple[str, ...] = ("premise", "hypothesis")
NLI_LABELS: tuple[str, ...] = ("entailment", "neutral", "contradiction")

SourceFormat = BatchFormat | Literal["nli"]


def parse_source_format(value: str) -> SourceFormat:
    """Parse a format name as written in YAML (``"scored_pair"``, ``"nli"``, ...).

    Raises:
        ValueError: If ``value`` names no format.
    """
    if value == NLI:
        return NLI
    try:
        return BatchFormat(value)
    except ValueError:
        known = [f.value for f in BatchFormat] + [NLI]
        raise ValueError(f"format={value!r} is not a known data format; expected one of {known}") from None


def source_columns(fmt: SourceFormat) -> tuple[str, ...]:
    """Text fields of a source format, in batch order."""
    return NLI_COLUMNS if fmt == NLI else fmt.columns


def source_label_kind(fmt: SourceFormat) -> LabelKind:
    """What the label column of a source format holds (NLI labels are class names)."""
    return LabelKind.CLASS_ID if fmt == NLI else fmt.label_kind


def describe_source(fmt: SourceFormat) -> str:
    """One-line description, e.g. ``triplet (anchor, positive, negative)``."""
    if fmt == NLI:
        return f"nli ({', '.join(NLI_COLUMNS)}; labels: {'/'.join(NLI_LABELS)})"
    return fmt.describe()
