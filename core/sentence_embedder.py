"""The one thing a DataModule needs from a model: embeddings of raw texts (a teacher or a guide)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from torch import Tensor


@runtime_checkable
class SentenceEmbedder(Protocol):
    """Embeds raw sentences; injected into DataModules (teacher labels, hard negatives, GIST guides).

    ``lightning_modules.encoders.teacher_encoder.TeacherEncoder`` implements it; so can any object with
    these two members, which keeps ``datamodules`` free of imports from ``lightning_modules``.
    """

    @property
    def identity(self) -> str:
        """A stable description of the model (name, weights, settings): part of embedding cache keys."""
        ...

    def encode(self, sentences: Sequence[str], batch_size: int = 64) -> Tensor:
        """``(len(sentences), D)`` float32 embeddings on CPU, in the order of ``sentences``."""
        ...
