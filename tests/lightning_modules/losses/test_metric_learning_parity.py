"""MetricLearningLoss equals pytorch-metric-learning called directly: value, embedding and parameter gradients.

The reference is a deep copy of the same PML loss (and miner) called as PML documents it, on the same
embeddings: ``loss(x, labels, miner(x, labels))`` for labelled batches, and for pair/triplet batches
``loss(stacked columns, None, indices_tuple)`` with the index tuple written out by explicit loops
(``loop_pairs``), not by the code under test.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
import torch
from pytorch_metric_learning import distances, losses, miners, reducers, regularizers
from torch import Tensor

from core.batch_formats import BatchFormat
from lightning_modules.losses.metric_learning import MetricLearningLoss
from lightning_modules.losses.multiple_negatives_ranking import MultipleNegativesRankingLoss
from lightning_modules.losses.triplet import TripletLoss
from tests.lightning_modules.losses.random_batches import DIM, NUM_CLASSES, random_batch
from tests.lightning_modules.losses.test_index_tuples import loop_pairs

Factory = Callable[[], tuple[losses.BaseMetricLossFunction, miners.BaseMiner | None]]

LABELED_CASES: dict[str, Factory] = {
    "MultiSimilarity": lambda: (losses.MultiSimilarityLoss(), None),
    "MultiSimilarity+MultiSimilarityMiner": lambda: (losses.MultiSimilarityLoss(), miners.MultiSimilarityMiner(0.5)),
    "SupCon": lambda: (losses.SupConLoss(temperature=0.1), None),
    "Circle": lambda: (losses.CircleLoss(), None),
    "NTXent": lambda: (losses.NTXentLoss(temperature=0.1), None),
    "TripletMargin+BatchHardMiner": lambda: (losses.TripletMarginLoss(margin=0.2), miners.BatchHardMiner()),
    "TripletMargin+TripletMarginMiner": lambda: (
        losses.TripletMarginLoss(margin=0.5, distance=distances.LpDistance(normalize_embeddings=False)),
        miners.TripletMarginMiner(margin=0.5, type_of_triplets="semihard"),
    ),
    "Contrastive+ThresholdReducer": lambda: (losses.ContrastiveLoss(reducer=reducers.ThresholdReducer(low=0.0)), None),
    "ArcFace": lambda: (losses.ArcFaceLoss(NUM_CLASSES, DIM), None),
    "ArcFace+RegularFace": lambda: (
        losses.ArcFaceLoss(NUM_CLASSES, DIM, weight_regularizer=regularizers.RegularFaceRegularizer()),
        None,
    ),
    "CosFace": lambda: (losses.CosFaceLoss(NUM_CLASSES, DIM), None),
    "ProxyAnchor": lambda: (losses.ProxyAnchorLoss(NUM_CLASSES, DIM), None),
    "ProxyAnchor+BatchHardMiner": lambda: (losses.ProxyAnchorLoss(NUM_CLASSES, DIM), miners.BatchHardMiner()),
    "SoftTriple": lambda: (losses.SoftTripleLoss(NUM_CLASSES, DIM, centers_per_class=3), None),
    "NormalizedSoftmax": lambda: (losses.NormalizedSoftmaxLoss(NUM_CLASSES, DIM), None),
    "MultiSimilarity+LpRegularizer": lambda: (
        losses.MultiSimilarityLoss(embedding_regularizer=regularizers.LpRegularizer()),
        None,
    ),
}
TUPLE_LOSSES: dict[str, Callable[[], losses.BaseMetricLossFunction]] = {
    "NTXent": lambda: losses.NTXentLoss(temperature=0.07),
    "MultiSimilarity": losses.MultiSimilarityLoss,
    "SupCon": losses.SupConLoss,
    "Circle": losses.CircleLoss,
    "Contrastive": losses.ContrastiveLoss,
    "TripletMargin": lambda: losses.TripletMarginLoss(margin=0.2),
}
# (number of columns, in_batch_negatives) of pair, triplet and two-negative batches.
STRUCTURES = {"pair": (2, True), "triplet": (3, True), "triplet-own-negatives": (3, False), "two-negatives": (4, True)}


def _seeded(factory: Factory) -> tuple[MetricLearningLoss, losses.BaseMetricLossFunction, miners.BaseMiner | None]:
    torch.manual_seed(0)  # PML draws class weights/proxies from the global RNG
    loss, miner = factory()
    reference_loss, reference_miner = copy.deepcopy(loss), copy.deepcopy(miner)
    return MetricLearningLoss(loss, miner), reference_loss, reference_miner


def _value_and_grads(fn: Callable[[list[Tensor]], Tensor], columns: list[Tensor], params: list) -> tuple:
    inputs = [c.clone().requires_grad_(True) for c in columns]
    value = fn(inputs)
    value.backward()
    return value.detach(), [i.grad for i in inputs], [p.grad for p in params]


def _assert_equal(ours: tuple, reference: tuple) -> None:
    value, grads, param_grads = ours
    assert value > 0  # every case is built so that the comparison is not trivially 0 == 0
    torch.testing.assert_close(value, reference[0])
    for got, expected in zip(grads + param_grads, reference[1] + reference[2], strict=True):
        assert got is not None and torch.count_nonzero(got) > 0
        torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", sorted(LABELED_CASES))
def test_labeled_batches_match_pml(name: str, seed: int) -> None:
    (x,), labels = random_batch(BatchFormat.LABELED, seed)
    ours, reference, reference_miner = _seeded(LABELED_CASES[name])

    def direct(columns: list[Tensor]) -> Tensor:
        indices = reference_miner(columns[0], labels) if reference_miner is not None else None
        return reference(columns[0], labels, indices)

    _assert_equal(
        _value_and_grads(lambda c: ours(c, labels).loss, [x], list(ours.loss.parameters())),
        _value_and_grads(direct, [x], list(reference.parameters())),
    )


@pytest.mark.parametrize("structure", sorted(STRUCTURES))
@pytest.mark.parametrize("name", sorted(TUPLE_LOSSES))
def test_pair_and_triplet_batches_match_pml_with_explicit_index_tuples(name: str, structure: str) -> None:
    num_columns, in_batch_negatives = STRUCTURES[structure]
    g = torch.Generator().manual_seed(num_columns)
    columns = [torch.randn(6, DIM, generator=g, dtype=torch.float64) for _ in range(num_columns)]
    positives, negatives = (sorted(pairs) for pairs in loop_pairs(num_columns, 6, in_batch_negatives))
    # (a1, p, a2, n): the first and second elements of the positive, then of the negative pairs.
    indices = tuple(torch.tensor([pair[k] for pair in pairs]) for pairs in (positives, negatives) for k in (0, 1))
    reference = TUPLE_LOSSES[name]()
    ours = MetricLearningLoss(copy.deepcopy(reference), in_batch_negatives=in_batch_negatives)
    _assert_equal(
        _value_and_grads(lambda c: ours(c, None).loss, columns, []),
        _value_and_grads(lambda c: reference(torch.cat(c), None, indices), columns, []),
    )


@pytest.mark.parametrize("batch_format", [BatchFormat.PAIR, BatchFormat.TRIPLET])
def test_ntxent_on_pair_batches_is_multiple_negatives_ranking(batch_format: BatchFormat) -> None:
    # The structure pairs are MNRL's candidates; temperature 0.05 is MNRL's scale 20 (both cosine).
    columns, _ = random_batch(batch_format)
    ntxent = MetricLearningLoss(losses.NTXentLoss(temperature=0.05))
    mnrl = MultipleNegativesRankingLoss(scale=20.0)
    ours, expected = (_value_and_grads(lambda c, f=f: f(c, None).loss, columns, []) for f in (ntxent, mnrl))
    # PML adds the smallest normal float64 inside its log: far below the tolerance.
    _assert_equal(ours, expected)


def test_explicit_triplets_are_the_triplet_loss() -> None:
    # Own negatives only: one (anchor, positive, negative) per row, as losslab's TripletLoss (sentence-transformers).
    columns, _ = random_batch(BatchFormat.TRIPLET)
    pml = losses.TripletMarginLoss(margin=5.0, distance=distances.LpDistance(normalize_embeddings=False))
    ours = MetricLearningLoss(pml, in_batch_negatives=False)
    value, grads, _ = _value_and_grads(lambda c: ours(c, None).loss, columns, [])
    expected = _value_and_grads(lambda c: TripletLoss(margin=5.0)(c, None).loss, columns, [])
    # TripletLoss's F.pairwise_distance adds eps=1e-6 to each difference (see the sentence-transformers parity).
    torch.testing.assert_close(value, expected[0], rtol=1e-3, atol=1e-6)
    for got, reference in zip(grads, expected[1], strict=True):
        torch.testing.assert_close(got, reference, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_embeddings_are_computed_in_float32(dtype: torch.dtype) -> None:
    (x,), labels = random_batch(BatchFormat.LABELED, dtype=torch.float32)
    half = x.to(dtype)
    ours, reference, _ = _seeded(LABELED_CASES["ProxyAnchor"])
    value = ours([half], labels).loss
    assert value.dtype == torch.float32 and ours.loss.proxies.dtype == torch.float32
    torch.testing.assert_close(value, reference(half.float(), labels), rtol=0, atol=0)
