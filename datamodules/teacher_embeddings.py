"""Sentence embeddings of a teacher model, computed once per (teacher, texts) and cached on disk."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from pytorch_lightning.utilities import rank_zero_info

from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.encoders.model_resolution import DEFAULT_MODEL, resolve_model_name_or_path

CACHE_DIR_ENV = "LOSSLAB_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$LOSSLAB_CACHE_DIR/teacher_embeddings``, else ``~/.cache/losslab/teacher_embeddings``."""
    root = os.environ.get(CACHE_DIR_ENV)
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "losslab") / "teacher_embeddings"


def _model_fingerprint(resolved: str) -> list[tuple[str, int, int]]:
    """Name, size and modification time of a local model's files: a rewritten model gets a new cache key."""
    path = Path(resolved)
    if not path.is_dir():
        return []
    return sorted(
        (str(f.relative_to(path)), f.stat().st_size, f.stat().st_mtime_ns) for f in path.rglob("*") if f.is_file()
    )


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
    """Embeds texts with a teacher :class:`~lightning_modules.encoders.hf_encoder.HFEncoder`, cached on disk.

    The teacher uses the encoder defaults (mean pooling, L2-normalised), in eval mode, on the GPU when
    one is available. The cache key covers the teacher (name, resolved path and, for a local model, its
    files' sizes and modification times), ``max_seq_length`` and every text in order, so a changed
    teacher or changed data never reuses stale embeddings; the model is only loaded on a cache miss.

    Args:
        teacher: Teacher model name or path (default: the embedded all-MiniLM-L6-v2).
        cache_dir: Directory of the cached ``.npy`` files; ``None`` uses :func:`default_cache_dir`.
        max_seq_length: Truncation length of the teacher in tokens.
        batch_size: Sentences per teacher forward pass.
    """

    def __init__(
        self,
        teacher: str = DEFAULT_MODEL,
        cache_dir: str | None = None,
        max_seq_length: int = 256,
        batch_size: int = 64,
    ) -> None:
        if max_seq_length < 1 or batch_size < 1:
            raise ValueError(f"max_seq_length={max_seq_length}, batch_size={batch_size}: expected positive integers")
        self.teacher = teacher
        self.cache_dir = default_cache_dir() if cache_dir is None else Path(cache_dir).expanduser()
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size

    def cache_path(self, texts: Sequence[str]) -> Path:
        """The cache file of ``texts`` embedded by this teacher."""
        resolved = resolve_model_name_or_path(self.teacher)
        identity = {
            "teacher": self.teacher,
            "resolved": resolved,
            "files": _model_fingerprint(resolved),
            "max_seq_length": self.max_seq_length,
        }
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode())
        for text in texts:
            digest.update(text.encode())
            digest.update(b"\0")  # separator: ["ab"] and ["a", "b"] must differ
        return self.cache_dir / f"{digest.hexdigest()[:32]}.npy"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), D)`` float32 teacher embeddings of ``texts``, from the cache when present."""
        path = self.cache_path(texts)
        if path.is_file():
            rank_zero_info(f"teacher embeddings of {len(texts)} texts by {self.teacher}: cached in {path}")
            return np.load(path)
        rank_zero_info(f"computing teacher embeddings of {len(texts)} texts with {self.teacher} (cached in {path})")
        encoder = HFEncoder(self.teacher, max_seq_length=self.max_seq_length).eval()
        if torch.cuda.is_available():
            encoder = encoder.cuda()
        embeddings = encoder.encode(list(texts), batch_size=self.batch_size).numpy().astype(np.float32)
        _atomic_save(path, embeddings)
        return embeddings
