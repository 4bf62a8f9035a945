"""Gradient caching: same loss and encoder gradients as the uncached loss, with dropout on."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import pytorch_lightning as pl
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from core.batch_formats import BatchFormat, TokenizedBatch
from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.losses.base import EmbeddingLoss, LossOutput
from lightning_modules.losses.batch_all_triplet import BatchAllTripletLoss
from lightning_modules.losses.cached_gist_embed import CachedGISTEmbedLoss
from lightning_modules.losses.cached_multiple_negatives_ranking import CachedMultipleNegativesRankingLoss
from lightning_modules.losses.cached_multiple_negatives_symmetric_ranking import (
    CachedMultipleNegativesSymmetricRankingLoss,
)
from lightning_modules.losses.gist_embed import GISTEmbedLoss
from lightning_modules.losses.gradient_cached import GradientCachedLoss
from lightning_modules.losses.multiple_negatives_ranking import MultipleNegativesRankingLoss
from lightning_modules.losses.multiple_negatives_symmetric_ranking import (
    MultipleNegativesSymmetricRankingLoss,
)
from lightning_modules.strategies.gradient_cache import GradientCache, RandContext, mini_batch_ranges, split_features
from tests.lightning_modules.losses.text_batches import text_batch

BATCH = 7
MINI = 3  # does not divide BATCH: the last mini-batch is smaller


@pytest.fixture(scope="module")
def encoder(tiny_model_dir) -> HFEncoder:
    enc = HFEncoder(str(tiny_model_dir), normalize=False)
    assert enc.training and enc.transformer.config.hidden_dropout_prob > 0  # dropout must be active
    return enc


def _seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _batches(encoder: HFEncoder) -> dict[str, tuple[EmbeddingLoss, TokenizedBatch]]:
    return {
        "mnrl-triplet": (MultipleNegativesRankingLoss(), text_batch(encoder, BatchFormat.TRIPLET, BATCH)),
        "symmetric-pair": (
            MultipleNegativesSymmetricRankingLoss(),
            text_batch(encoder, BatchFormat.PAIR, BATCH),
        ),
        "batch-all-triplet": (
            BatchAllTripletLoss(),
            text_batch(encoder, BatchFormat.LABELED, BATCH, labels=torch.tensor([0, 1, 2, 0, 1, 2, 0])),
        ),
        # Guide embeddings as labels: random ones flag about half of the candidates as false negatives.
        "gist-guided-triplet": (
            GISTEmbedLoss(temperature=0.05),
            text_batch(encoder, BatchFormat.GUIDED, BATCH, labels=torch.randn(BATCH, 3, 5, generator=_seeded(0))),
        ),
    }


LOSS_NAMES = ["mnrl-triplet", "symmetric-pair", "batch-all-triplet", "gist-guided-triplet"]
# The sentence-transformers cached losses, built from the arguments of the uncached loss they cache.
CACHED_CLASSES: dict[type, Callable[[int, int | None], EmbeddingLoss]] = {
    MultipleNegativesRankingLoss: lambda mini, tokens: CachedMultipleNegativesRankingLoss(
        mini_batch_size=mini, mini_batch_num_tokens=tokens
    ),
    MultipleNegativesSymmetricRankingLoss: lambda mini, tokens: CachedMultipleNegativesSymmetricRankingLoss(
        mini_batch_size=mini, mini_batch_num_tokens=tokens
    ),
    GISTEmbedLoss: lambda mini, tokens: CachedGISTEmbedLoss(
        temperature=0.05, mini_batch_size=mini, mini_batch_num_tokens=tokens
    ),
}


Result = tuple[LossOutput, list[Tensor]]


def _run(encoder: HFEncoder, compute: Callable[[], LossOutput], seed: int = 0) -> Result:
    encoder.zero_grad()
    torch.manual_seed(seed)
    out = compute()
    (out.loss * 0.5).backward()  # a non-unit outer gradient, as loss scaling / accumulation give
    return out, [p.grad.clone() for p in encoder.parameters() if p.grad is not None]


def _assert_same(a: Result, b: Result, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    torch.testing.assert_close(a[0].loss.detach(), b[0].loss.detach(), rtol=rtol, atol=atol)
    assert a[0].stats.keys() == b[0].stats.keys()
    assert len(a[1]) == len(b[1]) > 0
    for grad, expected in zip(a[1], b[1], strict=True):
        torch.testing.assert_close(grad, expected, rtol=rtol, atol=atol)


def _cached_runners(loss: EmbeddingLoss, mini: int, tokens: int | None = None) -> dict[str, Callable]:
    runners = {
        "strategy": lambda enc, batch: GradientCache(mini, mini_batch_num_tokens=tokens)(loss, enc, batch),
        "deferred_sync": lambda enc, batch: GradientCache(mini, True, tokens)(loss, enc, batch),
        "wrapper": lambda enc, batch: GradientCachedLoss(loss, mini, tokens).training_loss(enc, batch),
    }
    if type(loss) in CACHED_CLASSES:
        cached = CACHED_CLASSES[type(loss)](mini, tokens)
        runners["cached_class"] = cached.training_loss
    return runners


@pytest.mark.parametrize("loss_name", LOSS_NAMES)
def test_one_mini_batch_equals_uncached_loss(encoder, loss_name):
    loss, batch = _batches(encoder)[loss_name]
    expected = _run(encoder, lambda: loss.training_loss(encoder, batch))
    for run in _cached_runners(loss, BATCH).values():
        _assert_same(_run(encoder, lambda run=run: run(encoder, batch)), expected)


@pytest.mark.parametrize("loss_name", LOSS_NAMES)
def test_mini_batches_equal_uncached_loss_on_the_same_forward_passes(encoder, loss_name):
    loss, batch = _batches(encoder)[loss_name]

    def uncached() -> LossOutput:
        # The same mini-batch forward passes as the cache, with a graph: equal only if dropout is replayed.
        embeddings = [torch.cat([encoder(mb) for mb in split_features(f, MINI)]) for f in batch.features]
        return loss(embeddings, batch.labels)

    expected = _run(encoder, uncached)
    for run in _cached_runners(loss, MINI).values():
        _assert_same(_run(encoder, lambda run=run: run(encoder, batch)), expected)


@pytest.mark.parametrize("tokens", [1, 13, 40])
@pytest.mark.parametrize("loss_name", LOSS_NAMES)
def test_token_budget_equals_uncached_loss_on_the_same_forward_passes(encoder, loss_name, tokens):
    # A budget of 1 token puts every sequence in its own mini-batch; 40 packs several of varied count.
    loss, batch = _batches(encoder)[loss_name]

    def uncached() -> LossOutput:
        embeddings = [torch.cat([encoder(mb) for mb in split_features(f, MINI, tokens)]) for f in batch.features]
        return loss(embeddings, batch.labels)

    expected = _run(encoder, uncached)
    for run in _cached_runners(loss, MINI, tokens).values():
        _assert_same(_run(encoder, lambda run=run: run(encoder, batch)), expected)


@pytest.mark.parametrize("loss_name", LOSS_NAMES)
def test_token_budget_without_dropout_equals_the_whole_batch_loss(encoder, loss_name):
    # Without dropout the packing is invisible: trimmed mini-batches embed exactly like the padded batch.
    loss, batch = _batches(encoder)[loss_name]
    encoder.eval()
    try:
        expected = _run(encoder, lambda: loss.training_loss(encoder, batch))
        for run in _cached_runners(loss, MINI, 13).values():
            # Padded and trimmed sequences are different shapes, so different kernels sum in another order:
            # on a CPU without AVX512 single gradients differ by up to 4.6e-6 (4.4e-5 relative) in fp32; a
            # packing error (a lost or unmasked token) moves them by orders of magnitude more.
            _assert_same(_run(encoder, lambda run=run: run(encoder, batch)), expected, rtol=1e-4, atol=1e-5)
    finally:
        encoder.train()


@pytest.mark.parametrize(("defer", "expected_calls"), [(False, 3 * -(-BATCH // MINI)), (True, 1)])
def test_deferred_sync_accumulates_each_parameter_once(encoder, defer, expected_calls):
    # DDP all-reduces a parameter when its gradient is accumulated: that must happen once per backward.
    loss, batch = _batches(encoder)["mnrl-triplet"]
    calls: dict[int, int] = {}
    params = [p for p in encoder.parameters() if p.requires_grad]
    handles = [
        p.register_post_accumulate_grad_hook(lambda p: calls.__setitem__(id(p), calls.get(id(p), 0) + 1))
        for p in params
    ]
    try:
        GradientCache(MINI, defer_gradient_sync=defer)(loss, encoder, batch).loss.backward()
    finally:
        for handle in handles:
            handle.remove()
    assert sorted(calls) == sorted(id(p) for p in params)
    assert set(calls.values()) == {expected_calls}


def test_dropout_makes_the_comparison_meaningful(encoder):
    loss, batch = _batches(encoder)["mnrl-triplet"]
    first = _run(encoder, lambda: loss.training_loss(encoder, batch), seed=0)
    other_seed = _run(encoder, lambda: loss.training_loss(encoder, batch), seed=1)
    assert not torch.allclose(first[1][0], other_seed[1][0])


def test_backward_leaves_the_rng_where_the_forward_left_it(encoder):
    loss, batch = _batches(encoder)["mnrl-triplet"]
    out = GradientCache(MINI)(loss, encoder, batch)
    state = torch.get_rng_state()
    out.loss.backward()
    assert torch.equal(torch.get_rng_state(), state)


def test_no_grad_returns_the_plain_loss(encoder):
    loss, batch = _batches(encoder)["mnrl-triplet"]
    encoder.eval()
    try:
        with torch.no_grad():
            cached = GradientCache(MINI)(loss, encoder, batch).loss
            expected = loss.training_loss(encoder, batch).loss
    finally:
        encoder.train()
    assert not cached.requires_grad
    torch.testing.assert_close(cached, expected, rtol=1e-5, atol=1e-6)


def test_rand_context_replays_random_draws():
    state = RandContext()
    first = torch.rand(3)
    with state:
        replayed = torch.rand(3)
    assert torch.equal(first, replayed)
    assert not torch.equal(torch.rand(3), first)  # the outer stream continued, not rewound


def test_invalid_mini_batch_size():
    with pytest.raises(ValueError, match="mini_batch_size"):
        GradientCache(0)
    with pytest.raises(ValueError, match="mini_batch_num_tokens must be a positive integer or None, got 0"):
        GradientCache(4, mini_batch_num_tokens=0)


def _padded_features(seed: int, left: bool) -> dict[str, Tensor]:
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, 12, (9,), generator=g)
    positions = torch.arange(12)
    mask = (positions >= 12 - lengths[:, None]) if left else (positions < lengths[:, None])
    ids = torch.randint(1, 100, (9, 12), generator=g) * mask
    return {"input_ids": ids, "attention_mask": mask.long(), "token_type_ids": torch.zeros_like(ids)}


@pytest.mark.parametrize("left", [False, True], ids=["right-padded", "left-padded"])
@pytest.mark.parametrize(("mini", "tokens"), [(4, None), (2, None), (32, 1), (32, 10), (32, 25), (32, 1000)])
@pytest.mark.parametrize("seed", [0, 1])
def test_mini_batches_are_those_of_sentence_transformers(seed, mini, tokens, left):
    from sentence_transformers.base.losses.gradcache import _create_minibatch, _minibatch_ranges

    features = _padded_features(seed, left)
    ranges = mini_batch_ranges(features, mini, tokens)
    assert ranges == _minibatch_ranges(features, mini, tokens)
    for (begin, end), ours in zip(ranges, split_features(features, mini, tokens), strict=True):
        theirs = _create_minibatch(features, begin, end)
        assert ours.keys() == theirs.keys()
        for key, value in ours.items():
            assert torch.equal(value, theirs[key]), key


def test_token_budget_needs_an_attention_mask():
    with pytest.raises(ValueError, match="no 'attention_mask'; use mini_batch_size instead"):
        mini_batch_ranges({"input_ids": torch.ones(3, 4)}, 2, 10)


def test_replay_reenters_autocast(encoder):
    loss, batch = _batches(encoder)["mnrl-triplet"]

    def grads(compute: Callable[[], LossOutput]) -> list[Tensor]:
        encoder.zero_grad()
        torch.manual_seed(0)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = compute()
        out.loss.backward()  # outside autocast, as under Lightning's precision plugin
        return [p.grad for p in encoder.parameters() if p.grad is not None]

    expected = grads(lambda: loss.training_loss(encoder, batch))
    cached = grads(lambda: GradientCache(BATCH)(loss, encoder, batch))
    # Equal up to bfloat16 rounding (~1%); a float32 replay would be off by ~100%.
    for grad, ref in zip(cached, expected, strict=True):
        assert (grad - ref).abs().max() <= 0.05 * ref.abs().max()


def test_lightning_step_with_cache_equals_step_without(tiny_model_dir):
    from lightning_modules.embedding_module import EmbeddingLitModule

    def trained_weights(loss: EmbeddingLoss) -> list[Tensor]:
        pl.seed_everything(0, verbose=False)
        encoder = HFEncoder(str(tiny_model_dir))
        batch = text_batch(encoder, BatchFormat.PAIR, BATCH)
        module = EmbeddingLitModule(encoder, loss, optimizer=lambda params: torch.optim.SGD(params, lr=10.0))
        trainer = pl.Trainer(
            max_steps=1, logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False
        )
        trainer.fit(module, train_dataloaders=DataLoader([batch], batch_size=None))
        return [p.detach().clone() for p in encoder.parameters()]

    initial = HFEncoder(str(tiny_model_dir)).transformer.embeddings.word_embeddings.weight
    cached = trained_weights(CachedMultipleNegativesRankingLoss(mini_batch_size=BATCH))
    plain = trained_weights(MultipleNegativesRankingLoss())
    assert not torch.equal(plain[0], initial)  # the step did update the weights
    for weight, expected in zip(cached, plain, strict=True):
        torch.testing.assert_close(weight, expected, rtol=1e-5, atol=1e-6)
