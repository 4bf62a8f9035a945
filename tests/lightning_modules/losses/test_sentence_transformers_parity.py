"""Value and gradient parity of every loss with its sentence-transformers counterpart.

Each case builds our loss and, from it, a function that runs sentence-transformers' own loss math on
the same embeddings (``compute_loss_from_embeddings``, or its forward with the encoding step
replaced by the identity).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from unittest import mock

import pytest
import torch
from sentence_transformers import util
from sentence_transformers.sentence_transformer import losses as st
from sentence_transformers.sentence_transformer.losses import softmax as st_softmax
from sentence_transformers.sentence_transformer.losses.batch_hard_triplet import (
    BatchHardTripletLossDistanceFunction as STMatrixDistance,
)
from sentence_transformers.sentence_transformer.losses.contrastive import SiameseDistanceMetric
from sentence_transformers.sentence_transformer.losses.triplet import TripletDistanceMetric
from torch import Tensor

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
from lightning_modules.losses.mse import MSELoss
from lightning_modules.losses.online_contrastive import OnlineContrastiveLoss
from lightning_modules.losses.softmax import SoftmaxLoss
from lightning_modules.losses.triplet import TripletLoss
from tests.lightning_modules.losses.random_batches import DIM, random_batch

STLoss = Callable[[list[Tensor], Tensor | None], Tensor]

# Our paired L1/L2 go through F.pairwise_distance (eps 1e-6 added to the difference), where
# sentence-transformers' util/TripletDistanceMetric use the exact norm.
EPS_RTOL = 1e-3


def _squared_euclidean_pairs(x: Tensor, y: Tensor) -> Tensor:
    return (x - y).pow(2).sum(-1)


def _manhattan_matrix(embeddings: Tensor) -> Tensor:
    return torch.cdist(embeddings, embeddings, p=1)


# Our distance names -> the reference functions sentence-transformers' losses take (ST has no
# squared-euclidean pair metric nor manhattan matrix: those are written out here).
MATRIX_DISTANCES = {
    "euclidean": STMatrixDistance.euclidean_distance,
    "squared_euclidean": functools.partial(STMatrixDistance.euclidean_distance, squared=True),
    "cosine": STMatrixDistance.cosine_distance,
    "manhattan": _manhattan_matrix,
}
SIAMESE_DISTANCES = {
    "euclidean": SiameseDistanceMetric.EUCLIDEAN,
    "squared_euclidean": _squared_euclidean_pairs,
    "cosine": SiameseDistanceMetric.COSINE_DISTANCE,
    "manhattan": SiameseDistanceMetric.MANHATTAN,
}
TRIPLET_DISTANCES = {
    "euclidean": TripletDistanceMetric.EUCLIDEAN,
    "squared_euclidean": _squared_euclidean_pairs,
    "cosine": TripletDistanceMetric.COSINE,
    "manhattan": TripletDistanceMetric.MANHATTAN,
}
PAIR_SIMILARITIES = {
    "cosine_similarity": util.pairwise_cos_sim,
    "dot": util.pairwise_dot_score,
    "euclidean": util.pairwise_euclidean_sim,
    "manhattan": util.pairwise_manhattan_sim,
}


@dataclass
class Case:
    id: str
    ours: Callable[[], EmbeddingLoss]
    reference: Callable[[EmbeddingLoss], STLoss]  # receives our loss (Softmax copies its classifier)
    batch_format: BatchFormat
    rtol: float = 1e-5


def _st(cls: type, *args: object, **kwargs: object) -> Callable[[EmbeddingLoss], STLoss]:
    """Reference built from ``cls(None, *args, **kwargs).compute_loss_from_embeddings``."""
    return lambda _ours: cls(None, *args, **kwargs).compute_loss_from_embeddings


def _st_mse(_ours: EmbeddingLoss) -> STLoss:
    loss = st.MSELoss(None)
    return lambda embeddings, labels: loss.compute_loss_from_embeddings(embeddings, [labels])


def _st_mega_batch(ours: EmbeddingLoss) -> STLoss:
    loss = st.MegaBatchMarginLoss(None, ours.positive_margin, ours.negative_margin, use_mini_batched_version=False)
    return lambda embeddings, _labels: loss.calculate_loss([[e] for e in embeddings])


def _st_softmax(ours: EmbeddingLoss) -> STLoss:
    model = SimpleNamespace(device=torch.device("cpu"))
    loss = st.SoftmaxLoss(
        model,
        embedding_dimension=DIM,
        num_labels=ours.num_labels,
        concatenation_sent_rep=ours.concatenation_sent_rep,
        concatenation_sent_difference=ours.concatenation_sent_difference,
        concatenation_sent_multiplication=ours.concatenation_sent_multiplication,
    ).double()
    loss.classifier.load_state_dict(ours.classifier.state_dict())

    def run(embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
        # The forward's only model call is embed_columns: make it return the given embeddings.
        with mock.patch.object(st_softmax, "embed_columns", lambda _model, features: list(features)):
            return loss(embeddings, labels)

    return run


def _softmax(rep: bool, difference: bool, multiplication: bool) -> EmbeddingLoss:
    return SoftmaxLoss(DIM, 2, rep, difference, multiplication).double()


PAIR_FORMATS = (BatchFormat.SCORED_PAIR, BatchFormat.BINARY_PAIR)
BATCH_TRIPLET = (
    (BatchHardTripletLoss, st.BatchHardTripletLoss),
    (BatchAllTripletLoss, st.BatchAllTripletLoss),
    (BatchSemiHardTripletLoss, st.BatchSemiHardTripletLoss),
)
P = functools.partial

CASES: list[Case] = [
    *[
        Case(
            f"CoSENT-{name}-scale{scale}-{fmt.value}",
            P(CoSENTLoss, scale=scale, similarity_fct=name),
            _st(st.CoSENTLoss, scale=scale, similarity_fct=fn),
            fmt,
            1e-5 if name in ("cosine_similarity", "dot") else EPS_RTOL,
        )
        for name, fn in PAIR_SIMILARITIES.items()
        for scale in (20.0, 1.0)
        for fmt in PAIR_FORMATS
    ],
    *[
        Case(f"AnglE-scale{scale}-{fmt.value}", P(AnglELoss, scale=scale), _st(st.AnglELoss, scale=scale), fmt)
        for scale in (20.0, 1.0)
        for fmt in PAIR_FORMATS
    ],
    *[
        Case(
            f"{ours.__name__}-{name}-margin{margin}",
            P(ours, distance_metric=name, margin=margin),
            _st(ref, distance_metric=fn, margin=margin),
            BatchFormat.LABELED,
        )
        for ours, ref in BATCH_TRIPLET
        for name, fn in MATRIX_DISTANCES.items()
        for margin in (5.0, 0.5)
    ],
    *[
        Case(
            f"BatchHardSoftMarginTripletLoss-{name}",
            P(BatchHardSoftMarginTripletLoss, distance_metric=name),
            _st(st.BatchHardSoftMarginTripletLoss, distance_metric=fn),
            BatchFormat.LABELED,
        )
        for name, fn in MATRIX_DISTANCES.items()
    ],
    *[
        Case(
            f"Triplet-{name}-margin{margin}",
            P(TripletLoss, distance_metric=name, margin=margin),
            _st(st.TripletLoss, distance_metric=fn, triplet_margin=margin),
            BatchFormat.TRIPLET,
            EPS_RTOL if name in ("euclidean", "manhattan") else 1e-5,
        )
        for name, fn in TRIPLET_DISTANCES.items()
        for margin in (5.0, 0.5)
    ],
    *[
        Case(
            f"Contrastive-{name}-margin{margin}-average{average}",
            P(ContrastiveLoss, distance_metric=name, margin=margin, size_average=average),
            _st(st.ContrastiveLoss, distance_metric=fn, margin=margin, size_average=average),
            BatchFormat.BINARY_PAIR,
        )
        for name, fn in SIAMESE_DISTANCES.items()
        for margin in (0.5, 4.0)
        for average in (True, False)
    ],
    *[
        Case(
            f"OnlineContrastive-{name}-margin{margin}",
            P(OnlineContrastiveLoss, distance_metric=name, margin=margin),
            _st(st.OnlineContrastiveLoss, distance_metric=fn, margin=margin),
            BatchFormat.BINARY_PAIR,
        )
        for name, fn in SIAMESE_DISTANCES.items()
        for margin in (0.5, 4.0)
    ],
    *[
        Case(f"CosineSimilarity-{fmt.value}", CosineSimilarityLoss, _st(st.CosineSimilarityLoss), fmt)
        for fmt in PAIR_FORMATS
    ],
    Case("MSE", MSELoss, _st_mse, BatchFormat.DISTILLATION),
    *[
        Case(
            f"MarginMSE-{name}",
            P(MarginMSELoss, similarity_fct=name),
            _st(st.MarginMSELoss, similarity_fct=fn),
            BatchFormat.MARGIN_TRIPLET,
        )
        for name, fn in PAIR_SIMILARITIES.items()
        if name in ("dot", "cosine_similarity")
    ],
    *[
        Case(f"Softmax-{rep}-{diff}-{mult}", P(_softmax, rep, diff, mult), _st_softmax, BatchFormat.BINARY_PAIR)
        for rep, diff, mult in ((True, True, False), (True, True, True), (False, False, True))
    ],
    *[
        Case(
            f"MegaBatchMargin-minibatched{mini}-{pos}-{neg}",
            P(MegaBatchMarginLoss, pos, neg, use_mini_batched_version=mini, mini_batch_size=5),
            _st_mega_batch,
            BatchFormat.PAIR,
        )
        for mini in (True, False)
        for pos, neg in ((0.8, 0.3), (0.2, -0.2))
    ],
]


def _loss_and_grads(fn: Callable[[list[Tensor]], Tensor], embeddings: Sequence[Tensor]) -> tuple[Tensor, list]:
    inputs = [e.clone().requires_grad_(True) for e in embeddings]
    loss = fn(inputs)
    loss.backward()
    return loss.detach(), [i.grad for i in inputs]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_value_and_gradient_match_sentence_transformers(case: Case, seed: int) -> None:
    embeddings, labels = random_batch(case.batch_format, seed)
    ours = case.ours()
    reference = case.reference(ours)
    assert case.batch_format in ours.accepts
    our_loss, our_grads = _loss_and_grads(lambda e: ours(e, labels).loss, embeddings)
    st_loss, st_grads = _loss_and_grads(lambda e: reference(e, labels), embeddings)
    assert our_loss > 0  # every case is built so that the comparison is not trivially 0 == 0
    torch.testing.assert_close(our_loss, st_loss.to(our_loss.dtype), rtol=case.rtol, atol=1e-6)
    for ours_grad, st_grad in zip(our_grads, st_grads, strict=True):
        torch.testing.assert_close(ours_grad, st_grad, rtol=case.rtol, atol=case.rtol / 10)
