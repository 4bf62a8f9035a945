"""Small sentence-transformers models built locally from the tiny random BERT, one module stack each."""

from __future__ import annotations

from pathlib import Path

import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Dense, Normalize, Pooling, Transformer


def make_sentence_transformer(
    path: Path,
    base_dir: Path,
    pooling: str | tuple[str, ...] = "mean",
    include_prompt: bool = True,
    dense: tuple[int, ...] = (),
    normalize: bool = False,
    max_seq_length: int = 24,
    prompts: dict[str, str] | None = None,
    default_prompt_name: str | None = None,
    seed: int = 0,
) -> Path:
    """Save a ``SentenceTransformer`` with the given stack (random Dense weights, seeded) to ``path``.

    Args:
        path: Target directory.
        base_dir: A Hugging Face model directory (the tiny BERT).
        pooling: Pooling mode(s).
        include_prompt: Whether pooling includes prompt tokens.
        dense: Output sizes of Dense modules after pooling (Tanh, then Identity for the last of two or more).
        normalize: End with Normalize.
        max_seq_length: The Transformer's truncation length.
        prompts: Model prompts.
        default_prompt_name: Default prompt.
        seed: Seed of the Dense initialisation.
    """
    torch.manual_seed(seed)
    transformer = Transformer(str(base_dir), max_seq_length=max_seq_length)
    hidden = transformer.get_embedding_dimension()
    pool = Pooling(hidden, pooling_mode=pooling, include_prompt=include_prompt)
    modules: list[torch.nn.Module] = [transformer, pool]
    width = pool.get_embedding_dimension()
    for i, out in enumerate(dense):
        last_of_several = len(dense) > 1 and i == len(dense) - 1
        activation = torch.nn.Identity() if last_of_several else torch.nn.Tanh()
        modules.append(Dense(width, out, activation_function=activation))
        width = out
    if normalize:
        modules.append(Normalize())
    model = SentenceTransformer(modules=modules, device="cpu", prompts=prompts, default_prompt_name=default_prompt_name)
    model.save(str(path))
    return path
