"""Behaviour of every loss of this package beyond parity: ordering property, edge cases, errors, stats."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
from pytorch_metric_learning import losses as pml
from pytorch_metric_learning.miners import BatchHardMiner

from core.batch_formats import BatchFormat
from lightning_modules.losses.angle import AnglELoss
from lightning_modules.losses.base import EmbeddingLoss
from lightning_modules.losses.batch_all_triplet import BatchAllTripletLoss
from lightning_modules.losses.batch_hard_soft_margin_triplet import BatchHardSoftMarginTripletLoss
from lightning_modules.losses.batch_hard_triplet import BatchHardTripletLoss
from lightning_modules.losses.batch_semi_hard_triplet import BatchSemiHardTripletLoss
from lightning_modules.losses.contrastive import ContrastiveLoss
from lightning_modules.losses.cosent import CoSENTLoss
from lightning_modules.losses.cosine_similarity import CosineSimilarityLoss
from lightning_modules.losses.margin_mse import MarginMSELoss
from lightning_modules.losses.mega_batch_margin import MegaBatchMarginLoss
from lightning_modules.losses.metric_learning import MetricLearningLoss
from lightning_modules.losses.mse import MSELoss
from lightning_modules.losses.online_contrastive import OnlineContrastiveLoss
from lightning_modules.losses.softmax import SoftmaxLoss
from lightning_modules.losses.triplet import TripletLoss
from tests.lightning_modules.losses.random_batches import DIM, consistent_batch, corrupted, random_batch

# Every loss with its default arguments and the format it is exercised on.
LOSSES: dict[str, tuple[Callable[[], EmbeddingLoss], BatchFormat]] = {
    "cosent": (CoSENTLoss, BatchFormat.SCORED_PAIR),
    "angle": (AnglELoss, BatchFormat.SCORED_PAIR),
    "cosine_similarity": (CosineSimilarityLoss, BatchFormat.SCORED_PAIR),
    "batch_hard": (BatchHardTripletLoss, BatchFormat.LABELED),
    "batch_all": (BatchAllTripletLoss, BatchFormat.LABELED),
    "batch_semi_hard": (BatchSemiHardTripletLoss, BatchFormat.LABELED),
    "batch_hard_soft_margin": (BatchHardSoftMarginTripletLoss, BatchFormat.LABELED),
    "triplet": (TripletLoss, BatchFormat.TRIPLET),
    "contrastive": (ContrastiveLoss, BatchFormat.BINARY_PAIR),
    "online_contrastive": (OnlineContrastiveLoss, BatchFormat.BINARY_PAIR),
    "mse": (MSELoss, BatchFormat.DISTILLATION),
    "margin_mse": (MarginMSELoss, BatchFormat.MARGIN_TRIPLET),
    "softmax": (lambda: SoftmaxLoss(DIM, 2).double(), BatchFormat.BINARY_PAIR),
    "mega_batch_margin": (MegaBatchMarginLoss, BatchFormat.PAIR),
    "pml_multi_similarity": (lambda: MetricLearningLoss(pml.MultiSimilarityLoss()), BatchFormat.LABELED),
    "pml_triplet_batch_hard": (
        lambda: MetricLearningLoss(pml.TripletMarginLoss(), BatchHardMiner()),
        BatchFormat.LABELED,
    ),
    "pml_ntxent_pairs": (lambda: MetricLearningLoss(pml.NTXentLoss()), BatchFormat.PAIR),
    "pml_circle_triplets": (lambda: MetricLearningLoss(pml.CircleLoss()), BatchFormat.TRIPLET),
}
BATCH_TRIPLET = [
    BatchHardTripletLoss,
    BatchAllTripletLoss,
    BatchSemiHardTripletLoss,
    BatchHardSoftMarginTripletLoss,
]
# An untrained classifier has no notion of a "correct" batch.
PROPERTY_LOSSES = sorted(set(LOSSES) - {"softmax"})


def _grads(loss: EmbeddingLoss, embeddings: list[torch.Tensor], labels):
    inputs = [e.clone().requires_grad_(True) for e in embeddings]
    out = loss(inputs, labels)
    out.loss.backward()
    return out, [i.grad for i in inputs]


@pytest.mark.parametrize("name", PROPERTY_LOSSES)
def test_consistent_batch_scores_lower_than_corrupted(name):
    factory, fmt = LOSSES[name]
    loss = factory()
    for seed in range(3):
        embeddings, labels = consistent_batch(fmt, seed)
        good = loss(embeddings, labels).loss
        bad = loss(*corrupted(fmt, embeddings, labels)).loss
        assert good < bad, (seed, good, bad)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_stats_are_detached_finite_scalars_and_format_accepted(name):
    factory, fmt = LOSSES[name]
    loss = factory()
    loss.check_format(fmt)
    embeddings, labels = random_batch(fmt)
    out = loss([e.requires_grad_(True) for e in embeddings], labels)
    assert out.loss.requires_grad and out.loss.ndim == 0
    assert out.stats
    for key, value in out.stats.items():
        assert value.ndim == 0 and not value.requires_grad and torch.isfinite(value), key


@pytest.mark.filterwarnings("ignore:.*no valid triplet")  # checked below, in the no-valid-triplet test
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_batch_of_one_is_finite(name):
    factory, fmt = LOSSES[name]
    embeddings, labels = random_batch(fmt)
    out, grads = _grads(factory(), [e[:1] for e in embeddings], None if labels is None else labels[:1])
    assert torch.isfinite(out.loss)
    assert all(g is None or torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("distance_metric", ["euclidean", "squared_euclidean", "cosine", "manhattan"])
@pytest.mark.parametrize("cls", BATCH_TRIPLET)
@pytest.mark.parametrize(
    "labels",
    [torch.zeros(6, dtype=torch.long), torch.arange(6), torch.tensor([0])],
    ids=["one_class", "singletons", "one"],
)
def test_batch_without_valid_triplet_gives_zero_loss_and_zero_grads(cls, distance_metric, labels):
    embeddings = [torch.randn(labels.numel(), DIM, dtype=torch.float64)]
    with pytest.warns(UserWarning, match="no valid triplet") as caught:
        out, (grad,) = _grads(cls(distance_metric=distance_metric), embeddings, labels)
    assert len(caught) == 1
    assert out.loss.item() == 0.0
    assert torch.equal(grad, torch.zeros_like(grad))
    assert out.stats["valid_triplets"] == 0 and out.stats["mined_triplets"] == 0


@pytest.mark.parametrize("cls", [CoSENTLoss, AnglELoss])
def test_cosent_equal_scores_and_equal_labels(cls):
    first = torch.randn(1, DIM, dtype=torch.float64).repeat(5, 1)
    labels = torch.tensor([0.0, 0.2, 0.2, 0.8, 1.0], dtype=torch.float64)
    # All scores equal: every label-ordered pair contributes exp(0) = 1.
    ordered_pairs = sum(int(a > b) for a in labels for b in labels)
    out, grads = _grads(cls(), [first, first.clone()], labels)
    assert out.loss.item() == pytest.approx(math.log(1 + ordered_pairs))
    assert all(torch.isfinite(g).all() for g in grads)
    assert out.stats["spearman"] == 0  # undefined for constant scores: reported as 0
    out = cls()([torch.randn(5, DIM), torch.randn(5, DIM)], torch.full((5,), 0.5))
    assert out.loss.item() == 0.0  # no pair is ranked above another


def test_mega_batch_chunking_gives_identical_values():
    embeddings, _ = random_batch(BatchFormat.PAIR)
    full = MegaBatchMarginLoss(use_mini_batched_version=False)(embeddings, None)
    for size in (1, 5, 50):
        chunked = MegaBatchMarginLoss(use_mini_batched_version=True, mini_batch_size=size)(embeddings, None)
        torch.testing.assert_close(chunked.loss, full.loss)


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: CoSENTLoss(scale=0.0), "scale must be > 0"),
        (lambda: CoSENTLoss(similarity_fct="nope"), "unknown distance 'nope'"),
        (lambda: BatchHardTripletLoss(distance_metric="dot"), "distance_metric must be a distance"),
        (lambda: BatchAllTripletLoss(margin=-1.0), "margin must be >= 0"),
        (
            lambda: BatchSemiHardTripletLoss(distance_metric="cosine_similarity"),
            "distance_metric must be a distance",
        ),
        (lambda: BatchHardSoftMarginTripletLoss(distance_metric="cityblock"), "unknown distance"),
        (lambda: TripletLoss(margin=-0.5), "margin must be >= 0"),
        (lambda: ContrastiveLoss(distance_metric="dot"), "distance_metric must be a distance"),
        (lambda: OnlineContrastiveLoss(margin=-1.0), "margin must be >= 0"),
        (lambda: SoftmaxLoss(DIM, 1), "num_labels must be >= 2"),
        (lambda: SoftmaxLoss(0, 2), "embedding_dim must be >= 1"),
        (lambda: SoftmaxLoss(DIM, 2, False, False, False), "At least one of concatenation_sent_rep"),
        (lambda: MegaBatchMarginLoss(mini_batch_size=0), "mini_batch_size must be >= 1"),
        (lambda: MarginMSELoss(similarity_fct="cos"), "unknown distance"),
    ],
)
def test_bad_constructor_arguments_raise(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


@pytest.mark.parametrize(
    ("name", "embeddings", "labels", "match"),
    [
        ("cosent", [torch.randn(4, DIM)], torch.rand(4), "expects 2 embedding column"),
        ("cosent", [torch.randn(4, DIM)] * 2, None, "requires labels"),
        ("batch_hard", [torch.randn(4, DIM)], torch.zeros(3), "expects 4 labels"),
        ("mse", [torch.randn(4, DIM)], torch.randn(4, DIM + 1), "teacher embeddings of shape"),
        (
            "softmax",
            [torch.randn(4, DIM, dtype=torch.float64)] * 2,
            torch.tensor([0, 1, 2, 0]),
            r"labels must lie",
        ),
        ("triplet", [torch.randn(4, DIM)] * 2, None, "expects 3 embedding column"),
    ],
)
def test_bad_inputs_raise(name, embeddings, labels, match):
    with pytest.raises(ValueError, match=match):
        LOSSES[name][0]()(embeddings, labels)
