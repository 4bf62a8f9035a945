"""Export an :class:`HFEncoder` as a sentence-transformers model directory with its module stack, atomically."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from lightning_modules.encoders.embedding_head import DenseLayer, L2Normalize

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from lightning_modules.encoders.hf_encoder import HFEncoder


def to_sentence_transformer(encoder: HFEncoder, hf_dir: Path) -> SentenceTransformer:
    """The encoder as an in-memory ``SentenceTransformer`` (weights copied), its transformer saved to ``hf_dir``.

    The modules are Transformer, Pooling (mode(s), ``include_prompt``), then the encoder's Dense and
    Normalize modules in order; prompts, default prompt and similarity function carry over.
    """
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Dense, Normalize, Pooling, Transformer

    encoder.transformer.save_pretrained(hf_dir)
    encoder.tokenizer.save_pretrained(hf_dir)
    modules = [
        Transformer(str(hf_dir), max_seq_length=encoder.max_seq_length),
        Pooling(
            int(encoder.transformer.config.hidden_size),
            pooling_mode=encoder.pooling,
            include_prompt=encoder.include_prompt,
        ),
    ]
    for layer in encoder.head.layers:
        if isinstance(layer, L2Normalize):
            modules.append(Normalize())
            continue
        assert isinstance(layer, DenseLayer)
        spec = layer.spec
        dense = Dense(
            spec.in_features,
            spec.out_features,
            bias=spec.bias,
            activation_function=type(layer.activation_function)(),
            use_residual=spec.use_residual,
        )
        dense.load_state_dict(layer.state_dict(), strict=True)
        modules.append(dense)
    return SentenceTransformer(
        modules=modules,
        device="cpu",
        prompts=dict(encoder.prompts),
        default_prompt_name=encoder.default_prompt_name,
        similarity_fn_name=encoder.similarity_fn_name,
    )


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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        model = to_sentence_transformer(encoder, staging / "hf")
        model.save(str(staging / "model"))
        if path.exists():
            shutil.rmtree(path)
        (staging / "model").rename(path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path
