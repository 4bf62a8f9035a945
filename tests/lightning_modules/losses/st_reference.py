"""Helpers to run sentence-transformers 6.2 losses on given embeddings, and to compare them with ours."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType, SimpleNamespace
from unittest import mock

import torch
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from torch import Tensor
from transformers import PreTrainedTokenizerFast


class FakeSentenceTransformer(SimpleNamespace):
    """Stands in for the ``SentenceTransformer`` a sentence-transformers loss is built with.

    It carries what the losses' constructors read (a transformers tokenizer, ``max_seq_length``, the
    embedding size, a first module that is no ``StaticEmbedding``); :func:`given_embeddings` replaces the
    forward pass, so ``role`` names the entry of each feature dict that this model "embeds" to.
    """

    def __init__(self, role: str, dim: int = 8) -> None:
        vocab = {"[UNK]": 0, "a": 1}
        tokenizer = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(WordLevel(vocab, unk_token="[UNK]")))
        super().__init__(role=role, tokenizer=tokenizer, max_seq_length=16, device=torch.device("cpu"), dim=dim)

    def __getitem__(self, index: int) -> object:
        return object()

    def get_embedding_dimension(self) -> int:
        return self.dim


@contextmanager
def given_embeddings(module: ModuleType) -> Iterator[None]:
    """Make ``embed_columns`` in a sentence-transformers loss module return ``features[model.role]``."""
    with mock.patch.object(module, "embed_columns", lambda model, features: [f[model.role] for f in features]):
        yield


def value_and_grads(fn: Callable[[list[Tensor]], Tensor], inputs: Sequence[Tensor]) -> tuple[Tensor, list[Tensor]]:
    """``fn``'s value and its gradients w.r.t. fresh leaf copies of ``inputs``."""
    leaves = [t.clone().requires_grad_() for t in inputs]
    value = fn(leaves)
    return value.detach(), list(torch.autograd.grad(value, leaves, allow_unused=True))


def assert_parity(
    ours: Callable[[list[Tensor]], Tensor],
    reference: Callable[[list[Tensor]], Tensor],
    inputs: Sequence[Tensor],
    rtol: float = 1e-6,
) -> None:
    """Equal values and equal gradients w.r.t. every input (float64 inputs: tight tolerances)."""
    value, grads = value_and_grads(ours, inputs)
    ref_value, ref_grads = value_and_grads(reference, inputs)
    assert value.abs() > 0, "a comparison of two zeros proves nothing"
    torch.testing.assert_close(value, ref_value, rtol=rtol, atol=1e-9)
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    for grad, ref_grad in zip(grads, ref_grads, strict=True):
        if grad is None or ref_grad is None:
            assert grad is None or not grad.any(), "we use an input the reference ignores"
            assert ref_grad is None or not ref_grad.any(), "the reference uses an input we ignore"
            continue
        torch.testing.assert_close(grad, ref_grad, rtol=rtol, atol=1e-9)


def embeddings(n_columns: int, batch_size: int = 10, dim: int = 8, seed: int = 0) -> list[Tensor]:
    """``n_columns`` float64 ``(batch_size, dim)`` Gaussian embeddings."""
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch_size, dim, generator=g, dtype=torch.float64) for _ in range(n_columns)]
