"""Named, seeded conversions between data formats (a conversion changes the training format).

Every conversion is a pure function of the rows, a seeded generator and (for ``labels_to_hard_triplets``)
the teacher's cached embeddings: the same seed and teacher give the same rows. Conversions run once, in
``setup``; sampling then reshuffles the converted rows every epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from core.batch_formats import BatchFormat
from datamodules.row_conversions import (
    Embedder,
    labels_to_binary_pairs,
    labels_to_hard_triplets,
    labels_to_triplets,
    nli_to_positive_pairs,
    nli_to_triplets,
    scored_to_binary_pairs,
    scored_to_positive_pairs,
    sentences_to_contrastive_tension_pairs,
    to_singles,
)
from datamodules.source_format import NLI, SourceFormat, describe_source
from datamodules.text_dataset import TextDataset

ConversionName = Literal[
    "labels_to_triplets",
    "labels_to_hard_triplets",
    "labels_to_binary_pairs",
    "scored_to_binary_pairs",
    "scored_to_positive_pairs",
    "nli_to_triplets",
    "nli_to_positive_pairs",
    "pairs_to_singles",
    "labels_to_singles",
    "sentences_to_contrastive_tension_pairs",
]


@dataclass(frozen=True)
class Conversion:
    """A named conversion.

    Attributes:
        name: Its name in configs.
        inputs: Formats it reads.
        output: The training format it produces.
        function: ``(rows, rng, threshold, teacher) -> rows``.
        needs_threshold: Whether it reads ``score_threshold``.
        needs_teacher: Whether it embeds the rows with the DataModule's ``teacher``.
    """

    name: str
    inputs: frozenset[SourceFormat]
    output: BatchFormat
    function: Callable[[TextDataset, np.random.Generator, float | None, Embedder | None], TextDataset]
    needs_threshold: bool = False
    needs_teacher: bool = False

    def check(self, fmt: SourceFormat, threshold: float | None) -> None:
        """Raise a ``ValueError`` if this conversion cannot read ``fmt`` or lacks its threshold."""
        if fmt not in self.inputs:
            accepted = sorted(describe_source(f) for f in self.inputs)
            raise ValueError(f"conversion={self.name!r} cannot read {describe_source(fmt)} data; it reads: {accepted}")
        if self.needs_threshold and threshold is None:
            raise ValueError(f"conversion={self.name!r} needs score_threshold (a score on the data's raw scale)")

    def apply(
        self, dataset: TextDataset, seed: int, threshold: float | None = None, teacher: Embedder | None = None
    ) -> TextDataset:
        """Convert ``dataset`` with a generator seeded by ``seed`` (and ``teacher``'s embeddings if it needs them)."""
        self.check(dataset.format, threshold)
        if self.needs_teacher and teacher is None:
            raise ValueError(f"conversion={self.name!r} needs a teacher to embed the rows")
        return self.function(dataset, np.random.default_rng(seed), threshold, teacher)


_MULTI_COLUMN = frozenset(f for f in BatchFormat if len(f.columns) > 1) | {NLI}
_ANY_TEXT = frozenset(BatchFormat) | {NLI}
CONVERSIONS: dict[str, Conversion] = {
    c.name: c
    for c in (
        Conversion("labels_to_triplets", frozenset({BatchFormat.LABELED}), BatchFormat.TRIPLET, labels_to_triplets),
        Conversion(
            "labels_to_hard_triplets",
            frozenset({BatchFormat.LABELED}),
            BatchFormat.TRIPLET,
            labels_to_hard_triplets,
            needs_teacher=True,
        ),
        Conversion(
            "labels_to_binary_pairs",
            frozenset({BatchFormat.LABELED}),
            BatchFormat.BINARY_PAIR,
            labels_to_binary_pairs,
        ),
        Conversion(
            "scored_to_binary_pairs",
            frozenset({BatchFormat.SCORED_PAIR}),
            BatchFormat.BINARY_PAIR,
            scored_to_binary_pairs,
            True,
        ),
        Conversion(
            "scored_to_positive_pairs",
            frozenset({BatchFormat.SCORED_PAIR}),
            BatchFormat.PAIR,
            scored_to_positive_pairs,
            True,
        ),
        Conversion("nli_to_triplets", frozenset({NLI}), BatchFormat.TRIPLET, nli_to_triplets),
        Conversion("nli_to_positive_pairs", frozenset({NLI}), BatchFormat.PAIR, nli_to_positive_pairs),
        Conversion("pairs_to_singles", _MULTI_COLUMN, BatchFormat.SINGLE, to_singles),
        Conversion("labels_to_singles", frozenset({BatchFormat.LABELED}), BatchFormat.SINGLE, to_singles),
        Conversion(
            "sentences_to_contrastive_tension_pairs",
            _ANY_TEXT,
            BatchFormat.BINARY_PAIR,
            sentences_to_contrastive_tension_pairs,
        ),
    )
}


def get_conversion(name: str) -> Conversion:
    """Look up a conversion by name.

    Raises:
        ValueError: If ``name`` is unknown (lists the known ones).
    """
    if name not in CONVERSIONS:
        raise ValueError(f"conversion={name!r} is unknown; expected one of {sorted(CONVERSIONS)}")
    return CONVERSIONS[name]
