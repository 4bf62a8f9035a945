"""DistillKLDivLoss: parity with sentence-transformers 6.2 on every option, teacher-target checks."""

from __future__ import annotations

import warnings

import pytest
import torch
from sentence_transformers import util
from sentence_transformers.sentence_transformer import losses as st

from lightning_modules.losses.distill_kl_div import DistillKLDivLoss
from tests.lightning_modules.losses.st_reference import assert_parity, embeddings

ST_SIMILARITIES = {"dot": util.pairwise_dot_score, "cosine_similarity": util.pairwise_cos_sim}
TEMPERATURES = [
    pytest.param(dict(), id="defaults"),
    pytest.param(dict(temperature=2.0), id="t2"),
    pytest.param(dict(temperature=1.0, student_temperature=0.5), id="student0.5"),
    pytest.param(dict(temperature=3.0, teacher_temperature=0.2), id="teacher0.2"),
    pytest.param(dict(student_temperature=4.0, teacher_temperature=0.3), id="both"),
]


def _teacher_scores(n_candidates: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed + 7)
    return 3 * torch.randn(10, n_candidates, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("n_columns", [3, 5])
@pytest.mark.parametrize("similarity", ["dot", "cosine_similarity"])
@pytest.mark.parametrize("options", TEMPERATURES)
def test_parity_with_sentence_transformers(options, similarity, n_columns):
    ours = DistillKLDivLoss(similarity_fct=similarity, **options)
    reference = st.DistillKLDivLoss(None, similarity_fct=ST_SIMILARITIES[similarity], **options)
    labels = _teacher_scores(n_columns - 1)
    assert_parity(
        lambda e: ours(e, labels).loss,
        lambda e: reference.compute_loss_from_embeddings(e, labels),
        embeddings(n_columns),
    )


def test_student_matching_the_teacher_scores_lower():
    inputs = embeddings(4)
    query, candidates = inputs[0], inputs[1:]
    own_scores = torch.stack([(query * c).sum(1) for c in candidates], dim=1)
    loss = DistillKLDivLoss()
    matched = loss(inputs, own_scores)
    assert matched.loss.abs() < 1e-12 and matched.stats["teacher_agreement"] == 1.0
    assert loss(inputs, own_scores.flip(1)).loss > 0.1


@pytest.mark.parametrize(
    ("n_columns", "labels", "match"),
    [
        (2, torch.zeros(10, 1), "expects at least 3 columns"),
        (3, torch.zeros(10, 3), r"teacher scores of shape \(batch_size, N\) = \(10, 2\) .* got \(10, 3\)"),
        (3, None, r"= \(10, 2\) .* got None"),
        (3, torch.full((10, 2), float("nan")), "the teacher scores contain NaN"),
    ],
)
def test_bad_inputs(n_columns, labels, match):
    with pytest.raises(ValueError, match=match):
        DistillKLDivLoss()(embeddings(n_columns), labels)


def test_underflowing_teacher_targets_are_warned_about_once():
    loss = DistillKLDivLoss(teacher_temperature=0.01)
    labels = torch.tensor([[0.0, 10.0]] * 10, dtype=torch.float64)  # exp(-1000) is 0 in float64 too
    with pytest.warns(UserWarning, match=r"teacher_temperature=0.01 underflows 10 of 20 teacher scores"):
        loss(embeddings(3), labels)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss(embeddings(3), labels)  # checked on the first batch only, as sentence-transformers


@pytest.mark.parametrize("name", ["temperature", "student_temperature", "teacher_temperature"])
@pytest.mark.parametrize("value", [0.0, -1.0, float("inf")])
def test_temperatures_must_be_positive_and_finite(name, value):
    with pytest.raises(ValueError, match=f"{name} must be a positive finite number"):
        DistillKLDivLoss(**{name: value})
