"""Export an :class:`HFEncoder` as a sentence-transformers model directory, atomically."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lightning_modules.encoders.hf_encoder import HFEncoder


def export_sentence_transformer(encoder: HFEncoder, path: Path) -> Path:
    """Write ``encoder`` so that ``SentenceTransformer(path)`` reproduces its embeddings.

    The model is assembled in a temporary sibling directory and renamed into place, so a crash never
    leaves a half-written model behind.

    Args:
        encoder: The encoder to export (its weights as they are now).
        path: Target directory; an existing one is replaced only once the new one is complete.

    Returns:
        ``path``.
    """
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        hf_dir = staging / "hf"
        encoder.transformer.save_pretrained(hf_dir)
        encoder.tokenizer.save_pretrained(hf_dir)
        modules = [
            Transformer(str(hf_dir), max_seq_length=encoder.max_seq_length),
            Pooling(encoder.embedding_dim, pooling_mode=encoder.pooling),
        ]
        if encoder.normalize:
            modules.append(Normalize())
        model = SentenceTransformer(modules=modules, device="cpu")
        model.save(str(staging / "model"))
        if path.exists():
            shutil.rmtree(path)
        (staging / "model").rename(path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path
