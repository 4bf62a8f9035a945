"""A tiny randomly initialised BERT with the real all-MiniLM-L6-v2 tokenizer, for fast offline tests."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoTokenizer, BertConfig, BertModel

from core.model_resolution import embedded_model_path


def make_tiny_model(
    path: Path, hidden_size: int = 32, num_layers: int = 2, seed: int = 0, initializer_range: float = 0.02
) -> Path:
    """Write a tiny BERT (random weights, real tokenizer) to ``path`` and return it.

    ``initializer_range`` 0.2 (instead of BERT's 0.02) spreads the CLS embeddings of different texts apart,
    for tests whose scores would otherwise rest on cosines that tie in float32.
    """
    tokenizer = AutoTokenizer.from_pretrained(str(embedded_model_path()))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden_size,
        max_position_embeddings=512,
        initializer_range=initializer_range,
    )
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
