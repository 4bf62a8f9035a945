"""MultipleNegativesRankingLoss and its symmetric variant against sentence-transformers 6.2."""

from __future__ import annotations

import pytest
import torch
from sentence_transformers import util
from sentence_transformers.sentence_transformer import losses as st
from torch import Tensor

from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.losses.multiple_negatives_ranking import MultipleNegativesRankingLoss
from lightning_modules.losses.multiple_negatives_symmetric_ranking import (
    MultipleNegativesSymmetricRankingLoss,
)

ST_SIMILARITIES = {"cosine_similarity": util.cos_sim, "dot": util.dot_score}
ALL_DIRECTIONS = ("query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc")
VARIANTS = [
    pytest.param(("query_to_doc",), "joint", id="infonce"),
    pytest.param(("query_to_doc", "doc_to_query"), "per_direction", id="symmetric"),
    pytest.param(("query_to_doc", "doc_to_query"), "joint", id="symmetric-joint"),
    pytest.param(ALL_DIRECTIONS, "joint", id="gte"),
    pytest.param(("query_to_doc", "query_to_query"), "joint", id="q2q"),
]


def _embeddings(n_columns: int, batch_size: int = 6, dim: int = 8, seed: int = 0) -> list[Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch_size, dim, generator=g, dtype=torch.float64) for _ in range(n_columns)]


def _value_and_grads(fn, embeddings: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
    leaves = [e.clone().requires_grad_() for e in embeddings]
    value = fn(leaves)
    return value.detach(), list(torch.autograd.grad(value, leaves))


def assert_parity(ours, reference, embeddings: list[Tensor]) -> None:
    value, grads = _value_and_grads(lambda e: ours(e, None).loss, embeddings)
    ref_value, ref_grads = _value_and_grads(lambda e: reference(e, None), embeddings)
    torch.testing.assert_close(value, ref_value, rtol=1e-5, atol=1e-8)
    for grad, ref_grad in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(grad, ref_grad, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("n_columns", [2, 3, 5])
@pytest.mark.parametrize("similarity", ["cosine_similarity", "dot"])
@pytest.mark.parametrize(("directions", "partition_mode"), VARIANTS)
def test_parity_with_sentence_transformers(n_columns, similarity, directions, partition_mode):
    scale = 20.0 if similarity == "cosine_similarity" else 1.0
    ours = MultipleNegativesRankingLoss(
        scale=scale, similarity_fct=similarity, directions=directions, partition_mode=partition_mode
    )
    reference = st.MultipleNegativesRankingLoss(
        None,
        scale=scale,
        similarity_fct=ST_SIMILARITIES[similarity],
        directions=directions,
        partition_mode=partition_mode,
    )
    assert_parity(ours, reference.compute_loss_from_embeddings, _embeddings(n_columns))


@pytest.mark.parametrize("hardness_mode", ["in_batch_negatives", "hard_negatives", "all_negatives"])
@pytest.mark.parametrize(("directions", "partition_mode"), VARIANTS[:2])
def test_hardness_parity_with_sentence_transformers(hardness_mode, directions, partition_mode):
    kwargs = dict(directions=directions, partition_mode=partition_mode, hardness_mode=hardness_mode)
    reference = st.MultipleNegativesRankingLoss(None, hardness_strength=5.0, **kwargs)
    ours = MultipleNegativesRankingLoss(hardness_strength=5.0, **kwargs)
    assert_parity(ours, reference.compute_loss_from_embeddings, _embeddings(3))


@pytest.mark.parametrize("n_columns", [2, 3])
def test_symmetric_parity_with_sentence_transformers(n_columns):
    reference = st.MultipleNegativesSymmetricRankingLoss(None, scale=10.0)
    assert_parity(
        MultipleNegativesSymmetricRankingLoss(scale=10.0),
        reference.compute_loss_from_embeddings,
        _embeddings(n_columns),
    )


def test_stats_match_an_explicit_computation():
    queries, positives, negatives = _embeddings(3, batch_size=5)
    # Make anchor 0 retrieve a wrong document and anchor 1 its own positive.
    positives[1] = queries[1]
    negatives[0] = queries[0]
    stats = MultipleNegativesRankingLoss()([queries, positives, negatives], None).stats
    docs = torch.cat([positives, negatives])
    sim = util.cos_sim(queries, docs)
    expected_accuracy = sum(int(sim[i].argmax()) == i for i in range(5)) / 5
    hardest = [max(float(sim[i, j]) for j in range(10) if j != i) for i in range(5)]
    assert float(stats["accuracy"]) == pytest.approx(expected_accuracy)
    assert float(stats["positive_similarity"]) == pytest.approx(float(sim.diagonal().mean()))
    assert float(stats["hardest_negative_similarity"]) == pytest.approx(sum(hardest) / 5)
    assert all(not value.requires_grad for value in stats.values())


@pytest.mark.parametrize("loss_cls", [MultipleNegativesRankingLoss, MultipleNegativesSymmetricRankingLoss])
def test_matched_batch_scores_lower_than_shuffled(loss_cls):
    queries, noise = _embeddings(2, batch_size=8)
    positives = queries + 0.1 * noise
    loss = loss_cls()
    shuffled = positives[torch.roll(torch.arange(8), 1)]
    assert loss([queries, positives], None).loss < loss([queries, shuffled], None).loss


def test_batch_of_one_has_zero_loss_and_no_negative_stat():
    out = MultipleNegativesRankingLoss()(_embeddings(2, batch_size=1), None)
    assert float(out.loss) == pytest.approx(0.0)
    assert "hardest_negative_similarity" not in out.stats


@pytest.mark.parametrize("loss_cls", [MultipleNegativesRankingLoss, MultipleNegativesSymmetricRankingLoss])
def test_declares_formats_and_sampling(loss_cls):
    assert loss_cls.accepts == {BatchFormat.PAIR, BatchFormat.TRIPLET, BatchFormat.MULTI_NEGATIVE}
    assert loss_cls.sampling is BatchSampling.NO_DUPLICATES
    with pytest.raises(ValueError, match="cannot train on"):
        loss_cls().check_format(BatchFormat.LABELED)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"scale": 0.0}, "scale"),
        ({"similarity_fct": "euclidean"}, "similarity_fct"),
        ({"directions": ()}, "directions"),
        ({"directions": ("query_to_doc", "sideways")}, "unknown directions"),
        ({"directions": ("doc_to_query",)}, "query_to_doc"),
        ({"partition_mode": "other"}, "partition_mode"),
        ({"directions": ("query_to_doc", "doc_to_doc"), "partition_mode": "per_direction"}, "per_direction"),
        ({"hardness_mode": "hardest"}, "hardness_mode"),
        ({"hardness_strength": -1.0}, "hardness_strength"),
    ],
)
def test_invalid_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MultipleNegativesRankingLoss(**kwargs)


def test_needs_two_columns():
    with pytest.raises(ValueError, match="2 embedding columns"):
        MultipleNegativesRankingLoss()(_embeddings(1), None)
