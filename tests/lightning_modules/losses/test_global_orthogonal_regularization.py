"""GlobalOrthogonalRegularizationLoss: parity with sentence-transformers 6.2 on every option, edge cases."""

from __future__ import annotations

import pytest
import torch
from sentence_transformers import util
from sentence_transformers.sentence_transformer import losses as st

from core.batch_formats import BatchFormat
from lightning_modules.losses.global_orthogonal_regularization import GlobalOrthogonalRegularizationLoss
from tests.lightning_modules.losses.st_reference import assert_parity, embeddings

ST_SIMILARITIES = {"cosine_similarity": util.cos_sim, "dot": util.dot_score}
WEIGHTS = [(1.0, 1.0), (0.0, 1.0), (1.0, None), (0.3, 2.0)]


@pytest.mark.parametrize("n_columns", [1, 2, 3])
@pytest.mark.parametrize("aggregation", ["mean", "sum"])
@pytest.mark.parametrize(("mean_weight", "second_moment_weight"), WEIGHTS)
@pytest.mark.parametrize("similarity", ["cosine_similarity", "dot"])
def test_parity_with_sentence_transformers(n_columns, aggregation, mean_weight, second_moment_weight, similarity):
    kwargs = dict(mean_weight=mean_weight, second_moment_weight=second_moment_weight, aggregation=aggregation)
    ours = GlobalOrthogonalRegularizationLoss(similarity_fct=similarity, **kwargs)
    reference = st.GlobalOrthogonalRegularizationLoss(None, similarity_fct=ST_SIMILARITIES[similarity], **kwargs)
    # Embeddings around a common direction: similarities well above the 1/d floor of the second moment.
    inputs = [e + 1.0 for e in embeddings(n_columns)]

    def st_loss(e):
        return sum(reference.compute_loss_from_embeddings(e).values())

    assert_parity(lambda e: ours(e, None).loss, st_loss, inputs)


def test_statistics_are_the_weighted_terms():
    loss = GlobalOrthogonalRegularizationLoss(mean_weight=0.5, second_moment_weight=None)
    out = loss([e + 1.0 for e in embeddings(2)], None)
    assert set(out.stats) == {"gor_mean", "mean_similarity"}
    torch.testing.assert_close(out.stats["gor_mean"], out.loss.detach())


def test_spread_out_batch_scores_lower_than_a_collapsed_one():
    spread = torch.eye(8, dtype=torch.float64)
    collapsed = torch.ones(8, 8, dtype=torch.float64) + 0.01 * embeddings(1, batch_size=8)[0]
    loss = GlobalOrthogonalRegularizationLoss()
    assert loss([spread], None).loss < loss([collapsed], None).loss


def test_batch_of_one_is_a_differentiable_zero():
    x = torch.randn(1, 8, requires_grad=True)
    out = GlobalOrthogonalRegularizationLoss()([x], None)
    out.loss.backward()
    assert out.loss.item() == 0.0 and torch.isfinite(x.grad).all()


def test_accepts_every_format_and_ignores_labels():
    loss = GlobalOrthogonalRegularizationLoss()
    assert loss.accepts == frozenset(BatchFormat)
    inputs = embeddings(2)
    torch.testing.assert_close(loss(inputs, torch.zeros(10)).loss, loss(inputs, None).loss)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mean_weight": 0.0, "second_moment_weight": None}, "At least one of mean_weight"),
        ({"aggregation": "max"}, "aggregation must be 'mean' or 'sum'"),
        ({"similarity_fct": "euclidean"}, "similarity_fct must be"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GlobalOrthogonalRegularizationLoss(**kwargs)
