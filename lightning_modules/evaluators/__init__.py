"""In-training evaluators, chosen from the validation batch format."""

from __future__ import annotations

from core.batch_formats import BatchFormat
from lightning_modules.evaluators.base import Evaluator
from lightning_modules.evaluators.binary_pair_evaluator import BinaryPairEvaluator
from lightning_modules.evaluators.labeled_evaluator import LabeledEvaluator
from lightning_modules.evaluators.retrieval_evaluator import RetrievalEvaluator
from lightning_modules.evaluators.sts_evaluator import STSEvaluator
from lightning_modules.evaluators.triplet_evaluator import TripletEvaluator

EVALUATORS: tuple[type[Evaluator], ...] = (
    STSEvaluator,
    TripletEvaluator,
    BinaryPairEvaluator,
    LabeledEvaluator,
    RetrievalEvaluator,
)


def evaluator_for(batch_format: BatchFormat) -> Evaluator:
    """Return the default evaluator for validation batches of ``batch_format``.

    Raises:
        ValueError: If no evaluator handles that format.
    """
    for cls in EVALUATORS:
        if batch_format in cls.formats:
            return cls()
    known = sorted(f.value for cls in EVALUATORS for f in cls.formats)
    raise ValueError(f"no validation evaluator for {batch_format.describe()} batches; evaluable formats: {known}")


__all__ = [
    "EVALUATORS",
    "BinaryPairEvaluator",
    "Evaluator",
    "LabeledEvaluator",
    "RetrievalEvaluator",
    "STSEvaluator",
    "TripletEvaluator",
    "evaluator_for",
]
