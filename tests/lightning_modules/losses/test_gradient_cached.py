"""GradientCachedLoss as a wrapper: it delegates the contract and rejects losses it cannot cache.

Its numerical equivalence with the uncached losses is tested with the strategy
(tests/lightning_modules/strategies/test_gradient_cache.py).
"""

from __future__ import annotations

import pytest
import torch

from core.batch_formats import BatchFormat
from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.losses.adaptive_layer import AdaptiveLayerLoss
from lightning_modules.losses.batch_all_triplet import BatchAllTripletLoss
from lightning_modules.losses.cached_multiple_negatives_ranking import CachedMultipleNegativesRankingLoss
from lightning_modules.losses.denoising_auto_encoder import DenoisingAutoEncoderLoss
from lightning_modules.losses.gradient_cached import GradientCachedLoss
from lightning_modules.losses.matryoshka import MatryoshkaLoss
from lightning_modules.losses.multiple_negatives_ranking import MultipleNegativesRankingLoss
from tests.lightning_modules.losses.text_batches import text_batch


@pytest.mark.parametrize(("base", "n_columns"), [(MultipleNegativesRankingLoss(), 2), (BatchAllTripletLoss(), 1)])
def test_contract_is_the_wrapped_loss(base, n_columns):
    loss = GradientCachedLoss(base, mini_batch_size=4)
    assert loss.accepts == base.accepts and loss.sampling is base.sampling
    embeddings = [torch.randn(6, 8) for _ in range(n_columns)]
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    torch.testing.assert_close(loss(embeddings, labels).loss, base(embeddings, labels).loss)


@pytest.mark.parametrize(
    "make_base",
    [
        CachedMultipleNegativesRankingLoss,
        lambda: AdaptiveLayerLoss(MultipleNegativesRankingLoss()),
        DenoisingAutoEncoderLoss,
    ],
)
def test_rejects_losses_that_run_their_own_forward_passes(make_base):
    with pytest.raises(ValueError, match="controls its own forward passes"):
        GradientCachedLoss(make_base(), mini_batch_size=4)


def test_invalid_mini_batch_size():
    with pytest.raises(ValueError, match="mini_batch_size"):
        GradientCachedLoss(MultipleNegativesRankingLoss(), mini_batch_size=0)


def test_caches_a_matryoshka_loss(tiny_model_dir):
    encoder = HFEncoder(str(tiny_model_dir))
    base = MatryoshkaLoss(MultipleNegativesRankingLoss(), [encoder.embedding_dim, 8])
    loss = GradientCachedLoss(base, mini_batch_size=6)
    loss.bind_encoder(encoder)
    batch = text_batch(encoder, BatchFormat.PAIR, 6)
    results = []
    for compute in (base.training_loss, loss.training_loss):
        encoder.zero_grad()
        torch.manual_seed(0)  # same dropout masks: one mini-batch replays the uncached forward exactly
        out = compute(encoder, batch)
        out.loss.backward()
        results.append((out.loss.detach(), [p.grad.clone() for p in encoder.parameters() if p.grad is not None]))
    (expected, expected_grads), (value, grads) = results
    torch.testing.assert_close(value, expected, rtol=1e-5, atol=1e-6)
    for grad, ref in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(grad, ref, rtol=1e-5, atol=1e-6)
