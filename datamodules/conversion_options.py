"""How training rows are reshaped before batching (the DataModule's ``conversion`` group)."""

from __future__ import annotations

from dataclasses import dataclass

from datamodules.conversion import ConversionName
from datamodules.distillation import DistillTarget
from datamodules.noisy_text_dataset import NoiseName, check_deletion_ratio


@dataclass(frozen=True)
class ConversionOptions:
    """A named conversion, teacher labels, score normalisation and TSDAE noise of the training rows.

    Applied in this order: ``name`` (a format conversion), ``distill`` (teacher labels), then
    ``normalize_scores``; ``noise`` is drawn on the fly, per epoch. Validation and test rows are never
    converted (only NLI pairs become triplets so they can be evaluated), distilled or noised.

    Args:
        name: Named conversion of the training rows (changes the training format), e.g.
            ``nli_to_triplets``, ``labels_to_hard_triplets``, ``scored_to_binary_pairs``.
        score_threshold: Threshold on the raw score scale for ``scored_to_*`` conversions.
        normalize_scores: Map scores from the source's ``score_range`` to [0, 1] (CosineSimilarityLoss);
            CoSENT and AnglE work on raw scores.
        distill: Label the training rows with the DataModule's ``teacher``: ``embeddings`` turns single
            sentences into (sentence, teacher embedding) rows (MSELoss); ``margins`` turns triplets into
            (query, passage1, passage2, teacher margin) rows (MarginMSELoss); ``guide`` labels pair, triplet
            and multi-negative rows with the teacher's embedding of every column (GISTEmbedLoss,
            EmbedDistillLoss); ``scores`` labels triplet and multi-negative rows with the teacher's dot
            product of the query with each candidate (DistillKLDivLoss).
        noise: ``token_deletion``: serve single sentences with TSDAE's noise (each word deleted with
            probability ``deletion_ratio``, at least one kept; redrawn every epoch, seeded), the originals
            kept as the decoder targets.
        deletion_ratio: Probability of deleting each word under ``noise``.
    """

    name: ConversionName | None = None
    score_threshold: float | None = None
    normalize_scores: bool = False
    distill: DistillTarget | None = None
    noise: NoiseName | None = None
    deletion_ratio: float = 0.6

    def __post_init__(self) -> None:
        check_deletion_ratio(self.deletion_ratio)
