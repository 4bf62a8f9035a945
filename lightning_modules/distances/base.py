"""Distance/similarity objects that know their orientation, so one loss body serves all of them."""

from __future__ import annotations

from torch import Tensor


class Distance:
    """A pairwise comparison of embeddings.

    Attributes:
        name: The config name (``"euclidean"``, ``"cosine"``, ...).
        is_similarity: ``True`` when larger means closer (cosine similarity, dot product); ``False`` for
            distances, where smaller means closer.
    """

    name: str = ""
    is_similarity: bool = False

    def pairwise(self, x: Tensor, y: Tensor) -> Tensor:
        """All pairs: ``(N, D) x (M, D) -> (N, M)``."""
        raise NotImplementedError

    def paired(self, x: Tensor, y: Tensor) -> Tensor:
        """Row-wise: ``(N, D) x (N, D) -> (N,)``."""
        raise NotImplementedError

    def closeness(self, values: Tensor) -> Tensor:
        """Map values so that larger always means closer (negates distances)."""
        return values if self.is_similarity else -values

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
