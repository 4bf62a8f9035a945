"""Distances named by string in configs, implemented once and shared by every loss."""

from __future__ import annotations

from typing import Literal

from lightning_modules.distances.base import Distance
from lightning_modules.distances.metrics import (
    CosineDistance,
    CosineSimilarity,
    DotSimilarity,
    EuclideanDistance,
    ManhattanDistance,
    SquaredEuclideanDistance,
)

# Every name a config can give; a loss that needs a true distance (larger is farther) takes MetricDistanceName.
DistanceName = Literal["euclidean", "squared_euclidean", "cosine", "manhattan", "dot", "cosine_similarity"]
MetricDistanceName = Literal["euclidean", "squared_euclidean", "cosine", "manhattan"]

_REGISTRY: dict[str, type[Distance]] = {
    cls.name: cls
    for cls in (
        EuclideanDistance,
        SquaredEuclideanDistance,
        ManhattanDistance,
        CosineDistance,
        CosineSimilarity,
        DotSimilarity,
    )
}


def get_distance(name: str) -> Distance:
    """Return the distance object for a config name.

    Args:
        name: One of ``euclidean``, ``squared_euclidean``, ``cosine`` (1 - cosine similarity),
            ``manhattan``, ``dot`` (similarity), ``cosine_similarity``.

    Raises:
        ValueError: For an unknown name, listing the valid ones.
    """
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise ValueError(f"unknown distance {name!r}; expected one of {sorted(_REGISTRY)}") from None


__all__ = [
    "CosineDistance",
    "CosineSimilarity",
    "Distance",
    "DistanceName",
    "MetricDistanceName",
    "DotSimilarity",
    "EuclideanDistance",
    "ManhattanDistance",
    "SquaredEuclideanDistance",
    "get_distance",
]
