"""MetricLearningLoss beyond parity: formats and sampling, checks before training, statistics, edge cases.

The ordering property and the generic statistics/batch-of-one checks run in test_loss_behaviour.py.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from pytorch_metric_learning import losses, miners, regularizers

from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.losses.metric_learning import MetricLearningLoss
from tests.lightning_modules.losses.random_batches import DIM, NUM_CLASSES, random_batch

ENCODER = SimpleNamespace(embedding_dim=DIM)  # bind_encoder reads the embedding size only


def _bound(loss: MetricLearningLoss, batch_format: BatchFormat = BatchFormat.LABELED) -> MetricLearningLoss:
    loss.bind_encoder(ENCODER)
    loss.check_format(batch_format)
    return loss


@pytest.mark.parametrize(
    ("make", "batch_format", "sampling"),
    [
        (lambda: MetricLearningLoss(losses.MultiSimilarityLoss()), BatchFormat.LABELED, BatchSampling.PK),
        (lambda: MetricLearningLoss(losses.ArcFaceLoss(NUM_CLASSES, DIM)), BatchFormat.LABELED, BatchSampling.RANDOM),
        (
            lambda: MetricLearningLoss(losses.ProxyAnchorLoss(NUM_CLASSES, DIM)),
            BatchFormat.LABELED,
            BatchSampling.RANDOM,
        ),
        # A miner compares examples within the batch, whatever the loss.
        (
            lambda: MetricLearningLoss(losses.ArcFaceLoss(NUM_CLASSES, DIM), miners.BatchHardMiner()),
            BatchFormat.LABELED,
            BatchSampling.PK,
        ),
        (lambda: MetricLearningLoss(losses.NTXentLoss()), BatchFormat.PAIR, BatchSampling.NO_DUPLICATES),
        (lambda: MetricLearningLoss(losses.NTXentLoss()), BatchFormat.MULTI_NEGATIVE, BatchSampling.NO_DUPLICATES),
        (
            lambda: MetricLearningLoss(losses.TripletMarginLoss(), in_batch_negatives=False),
            BatchFormat.TRIPLET,
            BatchSampling.RANDOM,
        ),
    ],
)
def test_sampling_follows_the_loss_miner_and_format(make, batch_format: BatchFormat, sampling: BatchSampling) -> None:
    assert _bound(make(), batch_format).sampling is sampling


@pytest.mark.parametrize(
    ("make", "batch_format", "message"),
    [
        (
            lambda: MetricLearningLoss(losses.ArcFaceLoss(NUM_CLASSES, DIM)),
            BatchFormat.PAIR,
            r"MetricLearningLoss\(ArcFaceLoss\) cannot train on pair .* no class labels .*labels are required",
        ),
        (
            lambda: MetricLearningLoss(losses.FastAPLoss()),
            BatchFormat.TRIPLET,
            r"MetricLearningLoss\(FastAPLoss\) cannot train on triplet .*labels are required",
        ),
        (
            lambda: MetricLearningLoss(losses.PNPLoss(), miners.BatchHardMiner()),
            BatchFormat.LABELED,
            r"MetricLearningLoss\(PNPLoss, miner=BatchHardMiner\) cannot use its miner's indices_tuple \(remove the "
            r"miner\): indices_tuple is not supported",
        ),
        (
            lambda: MetricLearningLoss(losses.TripletMarginLoss(), miners.BatchHardMiner()),
            BatchFormat.PAIR,
            r"cannot train on pair .* \(its miner BatchHardMiner mines with class labels\); it accepts: labeled",
        ),
        (
            lambda: MetricLearningLoss(losses.NTXentLoss(), in_batch_negatives=False),
            BatchFormat.PAIR,
            r"cannot train on pair .*set in_batch_negatives",
        ),
        (
            lambda: MetricLearningLoss(losses.NTXentLoss()),
            BatchFormat.SCORED_PAIR,
            r"MetricLearningLoss\(NTXentLoss\) cannot train on scored_pair",
        ),
        (
            lambda: MetricLearningLoss(losses.ArcFaceLoss(NUM_CLASSES, 2 * DIM)),
            BatchFormat.LABELED,
            rf"MetricLearningLoss\(ArcFaceLoss\) does not fit the encoder's {DIM}-d embeddings \(its embedding_size "
            rf"must be {DIM}\): mat1 and mat2",
        ),
        (
            lambda: MetricLearningLoss(losses.ManifoldLoss(l=2 * DIM)),
            BatchFormat.LABELED,
            r"MetricLearningLoss\(ManifoldLoss\) .*: labels are ref_labels are not supported",
        ),
    ],
)
def test_bad_combinations_fail_before_training_in_one_line(make, batch_format: BatchFormat, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        _bound(make(), batch_format)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("format_first", [True, False])
def test_embedding_size_is_checked_whichever_hook_comes_first(format_first: bool) -> None:
    loss = MetricLearningLoss(losses.ProxyAnchorLoss(NUM_CLASSES, DIM + 1))
    if format_first:
        loss.check_format(BatchFormat.LABELED)  # a loss with parameters waits for the encoder's size
    with pytest.raises(ValueError, match=f"its embedding_size must be {DIM}"):
        loss.bind_encoder(ENCODER)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: MetricLearningLoss(losses.MultiSimilarityLoss(), loss_lr=0.1), "loss_lr is set, but .* no parameters"),
        (lambda: MetricLearningLoss(losses.ArcFaceLoss(NUM_CLASSES, DIM), loss_lr=0.0), "loss_lr must be > 0"),
        (lambda: MetricLearningLoss(torch.nn.MSELoss()), "loss must be a PML loss function, got MSELoss"),
        (lambda: MetricLearningLoss(losses.NTXentLoss(), torch.nn.Identity()), "miner must be a PML BaseMiner"),
    ],
)
def test_bad_arguments(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_batches() -> None:
    loss = MetricLearningLoss(losses.ArcFaceLoss(NUM_CLASSES, DIM))
    (x,), labels = random_batch(BatchFormat.LABELED)
    with pytest.raises(ValueError, match=rf"class ids must lie in \[0, num_classes={NUM_CLASSES}\), got 1\.\.4"):
        loss([x], torch.where(labels == 0, NUM_CLASSES, labels))
    with pytest.raises(ValueError, match=r"MetricLearningLoss\(ArcFaceLoss\) requires labels"):
        loss([x], None)
    with pytest.raises(ValueError, match="takes no labels with 2 embedding columns"):
        MetricLearningLoss(losses.NTXentLoss())([x, x], labels)


def _stats(loss: MetricLearningLoss, batch_format: BatchFormat = BatchFormat.LABELED) -> tuple[torch.Tensor, dict]:
    embeddings, labels = random_batch(batch_format)
    out = loss(embeddings, labels)
    for name, value in out.stats.items():
        assert value.ndim == 0 and not value.requires_grad and torch.isfinite(value), name
    return out.loss, out.stats


def test_sub_losses_are_statistics_that_sum_to_the_loss() -> None:
    loss = MetricLearningLoss(
        losses.ProxyAnchorLoss(NUM_CLASSES, DIM, weight_regularizer=regularizers.LpRegularizer()).double()
    )
    value, stats = _stats(loss)
    assert {"pos_loss", "neg_loss", "weight_reg_loss"} <= set(stats)
    total = stats["pos_loss"] + stats["neg_loss"] + stats["weight_reg_loss"]
    torch.testing.assert_close(total, value.detach().float())
    assert all(stats[name] > 0 for name in ("pos_loss", "neg_loss", "weight_reg_loss"))


def test_miner_counts_and_collected_records_are_statistics() -> None:
    (x,), labels = random_batch(BatchFormat.LABELED)
    loss = MetricLearningLoss(
        losses.ArcFaceLoss(NUM_CLASSES, DIM, collect_stats=True).double(),
        miners.PairMarginMiner(pos_margin=0.2, neg_margin=1.4, collect_stats=True),
    )
    stats = loss([x], labels).stats
    a1, _, a2, _ = miners.PairMarginMiner(pos_margin=0.2, neg_margin=1.4)(x, labels)
    assert stats["miner.num_pos_pairs"] == len(a1) > 0 and stats["miner.num_neg_pairs"] == len(a2) > 0
    assert "miner.num_triplets" not in stats  # a pair miner returned no triplets
    # The miner's record: mean L2 distance (normalised embeddings) of every same-class pair.
    unit = torch.nn.functional.normalize(x, dim=1)
    same = [(i, j) for i in range(len(x)) for j in range(len(x)) if i != j and labels[i] == labels[j]]
    expected_distance = torch.stack([(unit[i] - unit[j]).norm() for i, j in same]).mean()
    torch.testing.assert_close(stats["miner.pos_pair_dist"], expected_distance.float())
    # ArcFace's avg_angle: the mean angle (degrees) between each embedding and its class weight.
    weights = torch.nn.functional.normalize(loss.loss.W, dim=0)
    cosines = (unit @ weights)[torch.arange(len(labels)), labels]
    expected = torch.rad2deg(torch.acos(cosines.clamp(-1, 1))).mean()
    torch.testing.assert_close(stats["avg_angle"], expected.float())


def test_triplet_miner_count_is_a_statistic() -> None:
    (x,), labels = random_batch(BatchFormat.LABELED)
    stats = MetricLearningLoss(losses.TripletMarginLoss(), miners.BatchHardMiner())([x], labels).stats
    assert stats["miner.num_triplets"] == len(labels)  # P x K: every anchor has a hardest triplet


@pytest.mark.parametrize("batch_format", [BatchFormat.LABELED, BatchFormat.TRIPLET])
def test_pair_statistics_are_means_over_the_batch_pairs(batch_format: BatchFormat) -> None:
    embeddings, labels = random_batch(batch_format)
    stats = MetricLearningLoss(losses.SupConLoss())(embeddings, labels).stats
    normed = [torch.nn.functional.normalize(e, dim=1) for e in embeddings]
    if labels is not None:
        (x,) = normed
        same = [(i, j) for i in range(len(x)) for j in range(len(x)) if i != j and labels[i] == labels[j]]
        other = [(i, j) for i in range(len(x)) for j in range(len(x)) if labels[i] != labels[j]]
        positive = [x[i] @ x[j] for i, j in same]
        negative = [x[i] @ x[j] for i, j in other]
    else:
        anchors, positives, negatives = normed
        rows = range(len(anchors))
        positive = [anchors[i] @ positives[i] for i in rows]
        negative = [
            anchors[i] @ d[j] for i in rows for d in (positives, negatives) for j in rows if d is negatives or j != i
        ]
    torch.testing.assert_close(stats["positive_pair_similarity"], torch.stack(positive).mean().float())
    torch.testing.assert_close(stats["negative_pair_similarity"], torch.stack(negative).mean().float())


@pytest.mark.parametrize(
    "make",
    [
        lambda: MetricLearningLoss(losses.MultiSimilarityLoss()),
        lambda: MetricLearningLoss(losses.TripletMarginLoss(), miners.BatchHardMiner()),
        lambda: MetricLearningLoss(losses.ProxyAnchorLoss(NUM_CLASSES, DIM).double()),
    ],
)
@pytest.mark.parametrize("labels", [torch.zeros(6, dtype=torch.long), torch.tensor([0])], ids=["one_class", "one"])
def test_batches_without_pairs_give_finite_zero_or_proxy_losses(make, labels: torch.Tensor) -> None:
    x = torch.randn(labels.numel(), DIM, dtype=torch.float64, requires_grad=True)
    out = make()([x], labels)
    out.loss.backward()
    assert math.isfinite(out.loss.item()) and torch.isfinite(x.grad).all()
    assert all(torch.isfinite(value) for value in out.stats.values())
