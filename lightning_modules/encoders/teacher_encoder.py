"""A frozen pretrained encoder, loaded on first use: the teacher (or guide) a DataModule is given."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor

from core.model_resolution import DEFAULT_MODEL, resolve_model_name_or_path
from lightning_modules.encoders.hf_encoder import Auto, HFEncoder
from lightning_modules.encoders.pooling import PoolingMode


def model_fingerprint(resolved: str) -> list[tuple[str, int, int]]:
    """Name, size and modification time of a local model's files: a rewritten model gets a new identity."""
    path = Path(resolved)
    if not path.is_dir():
        return []
    return sorted(
        (str(f.relative_to(path)), f.stat().st_size, f.stat().st_mtime_ns) for f in path.rglob("*") if f.is_file()
    )


class TeacherEncoder:
    """A :class:`~core.sentence_embedder.SentenceEmbedder` over a pretrained :class:`HFEncoder`, in eval mode.

    The model is loaded on the first :meth:`encode` only (on the GPU when one is available), so a
    DataModule whose teacher embeddings are all cached never loads it.

    Args:
        model_name_or_path: Local directory or Hub id (``sentence-transformers/all-MiniLM-L6-v2`` is the
            embedded copy).
        pooling: ``auto`` (the model's own, see :class:`HFEncoder`) or a pooling mode (or list of modes).
        normalize: ``auto`` or whether to L2-normalise the embeddings.
        max_seq_length: ``auto`` or the truncation length in tokens.
        revision: Hub branch, tag or commit (Hub ids only).
    """

    def __init__(
        self,
        model_name_or_path: str = DEFAULT_MODEL,
        pooling: PoolingMode | list[PoolingMode] | Auto = "auto",
        normalize: bool | Auto = "auto",
        max_seq_length: int | Auto = "auto",
        revision: str | None = None,
    ) -> None:
        if max_seq_length != "auto" and (isinstance(max_seq_length, bool) or int(max_seq_length) < 1):
            raise ValueError(f"max_seq_length={max_seq_length}: expected a positive integer or 'auto'")
        self.model_name_or_path = model_name_or_path
        self.pooling = pooling
        self.normalize = normalize
        self.max_seq_length = max_seq_length
        self.revision = revision
        self._encoder: HFEncoder | None = None

    def __repr__(self) -> str:
        return f"TeacherEncoder({self.model_name_or_path!r})"

    @property
    def identity(self) -> str:
        """Name, resolved path, local files and settings, as JSON (a cache key component)."""
        resolved = resolve_model_name_or_path(self.model_name_or_path)
        return json.dumps(
            {
                "teacher": self.model_name_or_path,
                "resolved": resolved,
                "files": model_fingerprint(resolved),
                "pooling": self.pooling,
                "normalize": self.normalize,
                "max_seq_length": self.max_seq_length,
                # Only when pinned, so the keys of caches written before revisions existed stay valid.
                **({"revision": self.revision} if self.revision is not None else {}),
            },
            sort_keys=True,
        )

    def encode(self, sentences: Sequence[str], batch_size: int = 64) -> Tensor:
        """``(len(sentences), D)`` float32 embeddings on CPU, without gradients."""
        if self._encoder is None:
            encoder = HFEncoder(
                self.model_name_or_path,
                pooling=self.pooling,
                normalize=self.normalize,
                max_seq_length=self.max_seq_length,
                revision=self.revision,
            ).eval()
            self._encoder = encoder.cuda() if torch.cuda.is_available() else encoder
        return self._encoder.encode(list(sentences), batch_size=batch_size)
