"""Sentence embeddings of an injected teacher model, computed once per (teacher, texts) and cached on disk."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pytorch_lightning.utilities import rank_zero_info

from core.sentence_embedder import SentenceEmbedder

CACHE_DIR_ENV = "LOSSLAB_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$LOSSLAB_CACHE_DIR/teacher_embeddings``, else ``~/.cache/losslab/teacher_embeddings``."""
    root = os.environ.get(CACHE_DIR_ENV)
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "losslab") / "teacher_embeddings"


def _atomic_save(path: Path, array: np.ndarray) -> None:
    # A temporary file in the same directory plus a rename: readers never see a half-written cache file.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".npy.tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.save(handle, array)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class TeacherEmbeddings:
    """Embeds texts with an injected teacher (any :class:`~core.sentence_embedder.SentenceEmbedder`), cached.

    The cache key covers the teacher's ``identity`` (for ``TeacherEncoder``: name, resolved path, local
    files' sizes and modification times, pooling, normalisation, max length) and every text in order, so
    a changed teacher or changed data never reuses stale embeddings; the teacher only runs on a cache miss.

    Args:
        teacher: The teacher model.
        cache_dir: Directory of the cached ``.npy`` files; ``None`` uses :func:`default_cache_dir`.
        batch_size: Sentences per teacher forward pass.
    """

    def __init__(self, teacher: SentenceEmbedder, cache_dir: str | None = None, batch_size: int = 64) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size}: expected a positive integer")
        self.teacher = teacher
        self.cache_dir = default_cache_dir() if cache_dir is None else Path(cache_dir).expanduser()
        self.batch_size = batch_size

    def cache_path(self, texts: Sequence[str]) -> Path:
        """The cache file of ``texts`` embedded by this teacher."""
        digest = hashlib.sha256(self.teacher.identity.encode())
        for text in texts:
            digest.update(b"\0")  # separator: ["ab"] and ["a", "b"] must differ
            digest.update(text.encode())
        return self.cache_dir / f"{digest.hexdigest()[:32]}.npy"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), D)`` float32 teacher embeddings of ``texts``, from the cache when present."""
        path = self.cache_path(texts)
        if path.is_file():
            rank_zero_info(f"teacher embeddings of {len(texts)} texts by {self.teacher!r}: cached in {path}")
            return np.load(path)
        rank_zero_info(f"computing teacher embeddings of {len(texts)} texts with {self.teacher!r} (cached in {path})")
        embeddings = self.teacher.encode(list(texts), batch_size=self.batch_size).numpy().astype(np.float32)
        _atomic_save(path, embeddings)
        return embeddings
