"""Contrastive Tension losses against sentence-transformers 6.2, and their second-encoder hook."""

from __future__ import annotations

import pytest
import torch
from sentence_transformers.sentence_transformer import losses as st
from torch import Tensor, nn

from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.losses.contrastive_tension import ContrastiveTensionLoss
from lightning_modules.losses.contrastive_tension_in_batch_negatives import (
    ContrastiveTensionLossInBatchNegatives,
)
from lightning_modules.losses.gradient_cached import GradientCachedLoss
from tests.lightning_modules.losses.text_batches import text_batch


class _Lookup(nn.Module):
    """Stands in for a SentenceTransformer: returns the embeddings stored under ``key`` in the features."""

    key = "embedding"

    def forward(self, features: dict[str, Tensor]) -> dict[str, Tensor]:
        return {"sentence_embedding": features[self.key]}


def _embeddings(seed: int = 0, batch_size: int = 6) -> list[Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch_size, 8, generator=g, dtype=torch.float64, requires_grad=True) for _ in range(2)]


def _assert_value_and_grads(ours: Tensor, reference: Tensor, leaves: list[Tensor]) -> None:
    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-8)
    for grad, expected in zip(torch.autograd.grad(ours, leaves), torch.autograd.grad(reference, leaves), strict=True):
        torch.testing.assert_close(grad, expected, rtol=1e-5, atol=1e-8)


def test_parity_with_sentence_transformers():
    first, second = _embeddings()
    labels = torch.tensor([1, 0, 0, 1, 0, 0])
    reference = st.ContrastiveTensionLoss(_Lookup())([{"embedding": first}, {"embedding": second}], labels)
    ours = ContrastiveTensionLoss()([first, second], labels).loss
    _assert_value_and_grads(ours, reference, [first, second])


@pytest.mark.parametrize("scale", [20.0, 5.0])
def test_in_batch_parity_with_sentence_transformers(scale):
    first, second = _embeddings()
    reference_loss = st.ContrastiveTensionLossInBatchNegatives(_Lookup(), scale=scale)
    # sentence-transformers embeds the one column with its copy (model1) and the trained model (model2).
    reference_loss.model1.key, reference_loss.model2.key = "first", "second"
    ours_loss = ContrastiveTensionLossInBatchNegatives(scale=scale).double()
    reference = reference_loss.double()([{"first": first, "second": second}], None)
    ours = ours_loss([first, second], None).loss
    _assert_value_and_grads(ours, reference, [first, second])
    # The learnable scale gets the same gradient too.
    ours = ours_loss([first, second], None).loss
    reference = reference_loss([{"first": first, "second": second}], None)
    torch.testing.assert_close(
        torch.autograd.grad(ours, ours_loss.logit_scale),
        torch.autograd.grad(reference, reference_loss.logit_scale),
    )


def test_stats_of_the_binary_loss():
    first, second = _embeddings()
    labels = torch.tensor([1, 0, 0, 1, 0, 0])
    stats = ContrastiveTensionLoss()([first, second], labels).stats
    scores = (first * second).sum(-1).detach()
    assert float(stats["accuracy"]) == pytest.approx(float(((scores > 0) == (labels == 1)).double().mean()))
    assert float(stats["positive_score"]) == pytest.approx(float(scores[labels == 1].mean()))
    assert float(stats["negative_score"]) == pytest.approx(float(scores[labels == 0].mean()))


@pytest.fixture
def encoder(tiny_model_dir) -> HFEncoder:
    return HFEncoder(str(tiny_model_dir))


@pytest.mark.parametrize(
    ("loss_cls", "batch_format", "labels"),
    [
        (ContrastiveTensionLoss, BatchFormat.BINARY_PAIR, torch.tensor([1, 0, 0, 1])),
        (ContrastiveTensionLossInBatchNegatives, BatchFormat.SINGLE, None),
    ],
)
@pytest.mark.parametrize("freeze_copy", [False, True])
def test_bind_encoder_copies_the_encoder_and_both_train_unless_frozen(
    encoder, loss_cls, batch_format, labels, freeze_copy
):
    loss = loss_cls(freeze_copy=freeze_copy)
    loss.bind_encoder(encoder)
    assert loss.copy_encoder is not encoder
    for copied, original in zip(loss.copy_encoder.parameters(), encoder.parameters(), strict=True):
        assert torch.equal(copied, original) and copied is not original
    assert loss.check_format(batch_format) is None
    loss.training_loss(encoder, text_batch(encoder, batch_format, 4, labels)).loss.backward()
    assert all(p.grad is not None for p in encoder.transformer.encoder.parameters())
    copy_grads = [p.grad for p in loss.copy_encoder.transformer.encoder.parameters()]
    assert all((g is None) == freeze_copy for g in copy_grads)


@pytest.mark.parametrize("defer_gradient_sync", [False, True])
def test_gradient_cached_in_batch_loss_equals_uncached(encoder, defer_gradient_sync):
    loss = ContrastiveTensionLossInBatchNegatives()
    # Deferred: both encoders' mini-batches go through one joint final backward call.
    cached = GradientCachedLoss(loss, mini_batch_size=5, defer_gradient_sync=defer_gradient_sync)
    cached.bind_encoder(encoder)  # the wrapper passes the encoder on
    batch = text_batch(encoder, BatchFormat.SINGLE, 5)
    params = [*encoder.parameters(), *loss.copy_encoder.parameters(), loss.logit_scale]
    results = []
    for compute in (loss.training_loss, cached.training_loss):
        for p in params:
            p.grad = None
        torch.manual_seed(0)  # dropout is on: same masks only if the cache replays them
        value = compute(encoder, batch).loss
        value.backward()
        results.append((value.detach(), [p.grad for p in params]))
    (expected_value, expected_grads), (value, grads) = results
    torch.testing.assert_close(value, expected_value, rtol=1e-5, atol=1e-6)
    assert sum(g is not None for g in grads) > len(params) // 2  # both encoders and the scale
    for grad, expected in zip(grads, expected_grads, strict=True):
        assert (grad is None) == (expected is None)
        if grad is not None:
            torch.testing.assert_close(grad, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss_cls", [ContrastiveTensionLoss, ContrastiveTensionLossInBatchNegatives])
def test_training_before_bind_encoder_raises(encoder, loss_cls):
    batch = text_batch(encoder, next(iter(loss_cls.accepts)), 2, torch.tensor([1, 0]))
    with pytest.raises(RuntimeError, match="bind_encoder"):
        loss_cls().training_loss(encoder, batch)


def test_declared_formats():
    assert ContrastiveTensionLoss.accepts == {BatchFormat.BINARY_PAIR}
    assert ContrastiveTensionLossInBatchNegatives.accepts == {BatchFormat.SINGLE}
    assert ContrastiveTensionLossInBatchNegatives.sampling is BatchSampling.NO_DUPLICATES


@pytest.mark.parametrize(
    ("loss", "labels", "match"),
    [
        (ContrastiveTensionLoss(), None, "labels"),
        (ContrastiveTensionLoss(), torch.ones(6), None),
        (ContrastiveTensionLossInBatchNegatives(), None, None),
    ],
)
def test_invalid_inputs_raise(loss, labels, match):
    first, second = _embeddings()
    with pytest.raises(ValueError, match=match or "2 embedding columns"):
        loss([first, second] if match else [first, second, second], labels)
