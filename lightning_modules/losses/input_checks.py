"""Shared validation of loss arguments and of the ``(embeddings, labels)`` a loss receives."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from lightning_modules.distances import Distance, get_distance


def check_columns(loss_name: str, embeddings: Sequence[Tensor], expected: int) -> None:
    """Raise ``ValueError`` unless exactly ``expected`` embedding columns were given."""
    if len(embeddings) != expected:
        raise ValueError(f"{loss_name} expects {expected} embedding column(s), got {len(embeddings)}.")


def check_labels(loss_name: str, labels: Tensor | None, batch_size: int) -> Tensor:
    """Return ``labels`` flattened to ``(batch_size,)``; raise ``ValueError`` if missing or mis-sized."""
    if labels is None:
        raise ValueError(f"{loss_name} requires labels, got None.")
    if labels.numel() != batch_size:
        raise ValueError(
            f"{loss_name} expects {batch_size} labels (one per example), got {labels.numel()} "
            f"with shape {tuple(labels.shape)}."
        )
    return labels.reshape(-1)


def get_metric_distance(distance_metric: str) -> Distance:
    """Resolve a ``distance_metric`` argument; similarities (larger is closer) raise ``ValueError``."""
    distance = get_distance(distance_metric)
    if distance.is_similarity:
        raise ValueError(
            "distance_metric must be a distance (euclidean, squared_euclidean, cosine, manhattan), "
            f"got the similarity {distance_metric!r}."
        )
    return distance


def check_non_negative(name: str, value: float) -> None:
    """Raise ``ValueError`` if the argument ``name`` is negative."""
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}.")
