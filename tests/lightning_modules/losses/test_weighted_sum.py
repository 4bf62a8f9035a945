"""WeightedSumLoss: MNRL + 0.1 GOR equals sentence-transformers' InfoNCEGORLoss; contract checks; logging."""

from __future__ import annotations

import pytest
import torch
from sentence_transformers.sentence_transformer import losses as st

from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.losses.batch_hard_triplet import BatchHardTripletLoss
from lightning_modules.losses.cached_multiple_negatives_ranking import CachedMultipleNegativesRankingLoss
from lightning_modules.losses.contrastive_tension_in_batch_negatives import ContrastiveTensionLossInBatchNegatives
from lightning_modules.losses.cosent import CoSENTLoss
from lightning_modules.losses.global_orthogonal_regularization import GlobalOrthogonalRegularizationLoss
from lightning_modules.losses.gradient_cached import GradientCachedLoss
from lightning_modules.losses.multiple_negatives_ranking import MultipleNegativesRankingLoss
from lightning_modules.losses.weighted_sum import WeightedSumLoss
from tests.lightning_modules.losses.st_reference import assert_parity, embeddings
from tests.lightning_modules.losses.text_batches import text_batch


@pytest.mark.parametrize("n_columns", [2, 3])
@pytest.mark.parametrize("weights", [(1.0, 0.1), (0.5, 2.0)])
def test_mnrl_plus_gor_equals_sentence_transformers(weights, n_columns):
    ours = WeightedSumLoss([MultipleNegativesRankingLoss(), GlobalOrthogonalRegularizationLoss()], weights)
    mnrl, gor = st.MultipleNegativesRankingLoss(None), st.GlobalOrthogonalRegularizationLoss(None)

    def st_loss(e):
        # sentence-transformers' InfoNCEGORLoss example, with weights.
        regulariser = sum(gor.compute_loss_from_embeddings(e).values())
        return weights[0] * mnrl.compute_loss_from_embeddings(e, None) + weights[1] * regulariser

    assert_parity(lambda e: ours(e, None).loss, st_loss, [x + 0.5 for x in embeddings(n_columns)])


def test_each_part_is_logged_unweighted():
    loss = WeightedSumLoss([MultipleNegativesRankingLoss(), GlobalOrthogonalRegularizationLoss()], [1.0, 0.1])
    inputs = embeddings(2)
    out = loss(inputs, None)
    mnrl = MultipleNegativesRankingLoss()(inputs, None)
    gor = GlobalOrthogonalRegularizationLoss()(inputs, None)
    torch.testing.assert_close(out.stats["multiple_negatives_ranking/loss"], mnrl.loss)
    torch.testing.assert_close(out.stats["global_orthogonal_regularization/loss"], gor.loss)
    torch.testing.assert_close(out.stats["multiple_negatives_ranking/accuracy"], mnrl.stats["accuracy"])
    torch.testing.assert_close(out.stats["global_orthogonal_regularization/gor_mean"], gor.stats["gor_mean"])
    torch.testing.assert_close(out.loss, mnrl.loss + 0.1 * gor.loss)


def test_contract_is_the_common_one():
    loss = WeightedSumLoss([MultipleNegativesRankingLoss(), GlobalOrthogonalRegularizationLoss()])
    assert loss.accepts == MultipleNegativesRankingLoss.accepts
    assert loss.sampling is BatchSampling.NO_DUPLICATES
    assert WeightedSumLoss([CoSENTLoss(), GlobalOrthogonalRegularizationLoss()]).sampling is BatchSampling.RANDOM
    same_strict_sampling = [BatchHardTripletLoss(), GlobalOrthogonalRegularizationLoss(), BatchHardTripletLoss()]
    assert WeightedSumLoss(same_strict_sampling).sampling is BatchSampling.PK
    names = WeightedSumLoss([GlobalOrthogonalRegularizationLoss(), GlobalOrthogonalRegularizationLoss()]).part_names
    assert names == ("global_orthogonal_regularization_1", "global_orthogonal_regularization_2")


@pytest.mark.parametrize(
    ("losses", "weights", "match"),
    [
        ([], None, "needs at least one loss"),
        ([CoSENTLoss()], [1.0, 2.0], r"one weight per loss \(1\), got 2"),
        ([CoSENTLoss(), MultipleNegativesRankingLoss()], None, "accept no common batch format .*CoSENTLoss accepts"),
        ([CachedMultipleNegativesRankingLoss(), GlobalOrthogonalRegularizationLoss()], None, "controls its own"),
    ],
)
def test_parts_must_agree(losses, weights, match):
    with pytest.raises(ValueError, match=match):
        WeightedSumLoss(losses, weights)


def test_different_samplings_are_refused():
    class NeedsPK(GlobalOrthogonalRegularizationLoss):
        sampling = BatchSampling.PK

    with pytest.raises(ValueError, match="need different batch sampling .*NeedsPK needs pk"):
        WeightedSumLoss([MultipleNegativesRankingLoss(), NeedsPK()])


def test_trains_from_one_embedding_pass_and_through_the_gradient_cache(tiny_model_dir):
    encoder = HFEncoder(str(tiny_model_dir))
    loss = WeightedSumLoss([MultipleNegativesRankingLoss(), GlobalOrthogonalRegularizationLoss()], [1.0, 0.1])
    batch = text_batch(encoder, BatchFormat.PAIR, 6)
    results = []
    for compute in (loss.training_loss, GradientCachedLoss(loss, mini_batch_size=6).training_loss):
        encoder.zero_grad()
        torch.manual_seed(0)  # one mini-batch replays the uncached forward's dropout exactly
        out = compute(encoder, batch)
        out.loss.backward()
        results.append((out.loss.detach(), [p.grad.clone() for p in encoder.parameters() if p.grad is not None]))
    (value, grads), (cached_value, cached_grads) = results
    torch.testing.assert_close(cached_value, value, rtol=1e-5, atol=1e-6)
    assert grads
    for grad, ref in zip(cached_grads, grads, strict=True):
        torch.testing.assert_close(grad, ref, rtol=1e-5, atol=1e-6)


def test_parts_with_other_forward_passes_cannot_be_summed(tiny_model_dir):
    encoder = HFEncoder(str(tiny_model_dir))
    ct = ContrastiveTensionLossInBatchNegatives()
    loss = WeightedSumLoss([ct, GlobalOrthogonalRegularizationLoss()])
    loss.bind_encoder(encoder)
    with pytest.raises(ValueError, match="embeds the batch with other forward passes"):
        loss.training_loss(encoder, text_batch(encoder, BatchFormat.SINGLE, 4))
