"""Batch-all without listing triplets: value, gradients and statistics against explicit enumeration."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from lightning_modules.losses.batch_all_triplet import BatchAllTripletLoss, active_triplet_weights
from lightning_modules.losses.triplet_statistics import triplet_statistics
from lightning_modules.miners import count_valid_triplets

LABELS = {
    "pk": torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]),
    "two_classes": torch.tensor([0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0]),
    "with_singletons": torch.tensor([0, 0, 1, 2, 3, 3, 3, 4, 5, 5, 6, 7]),
    "one_class": torch.zeros(12, dtype=torch.long),
}


def _enumerated(labels: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Every valid triplet, listed explicitly."""
    b = labels.numel()
    a, p, n = torch.meshgrid(torch.arange(b), torch.arange(b), torch.arange(b), indexing="ij")
    valid = (a != p) & (labels[a] == labels[p]) & (labels[p] != labels[n])
    return a[valid], p[valid], n[valid]


def _embeddings(seed: int) -> Tensor:
    return F.normalize(torch.randn(12, 5, generator=torch.Generator().manual_seed(seed)), dim=1).requires_grad_()


@pytest.mark.filterwarnings("ignore:.*no valid triplet")  # checked in test_loss_behaviour
@pytest.mark.parametrize("margin", [0.0, 0.3, 5.0])
@pytest.mark.parametrize("labels", LABELS.values(), ids=LABELS.keys())
def test_loss_and_statistics_equal_the_enumerated_triplets(labels, margin):
    x_ours, x_ref = _embeddings(0), _embeddings(0)
    out = BatchAllTripletLoss(margin=margin)([x_ours], labels)
    out.loss.backward()

    distances = torch.cdist(x_ref, x_ref)
    a, p, n = _enumerated(labels)
    d_ap, d_an = distances[a, p], distances[a, n]
    hinge = F.relu(d_ap - d_an + margin)
    (hinge.sum() / ((hinge > 1e-16).sum() + 1e-16)).backward()  # sentence-transformers' reduction

    assert out.stats["valid_triplets"] == out.stats["mined_triplets"] == a.numel() == count_valid_triplets(labels)
    expected_value = hinge.sum() / ((hinge > 1e-16).sum() + 1e-16)
    torch.testing.assert_close(out.loss.detach(), expected_value.detach(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(x_ours.grad, x_ref.grad, rtol=1e-5, atol=1e-6)
    for name, value in triplet_statistics(d_ap, d_an, margin).items():
        torch.testing.assert_close(out.stats[name], value, rtol=1e-5, atol=1e-6, msg=name)


@pytest.mark.parametrize("direct_max_positives", [0, 1000], ids=["binary-search", "direct"])
@pytest.mark.parametrize("margin", [0.0, 0.3, 1.0])
def test_summary_of_a_larger_two_class_batch(margin, direct_max_positives):
    g = torch.Generator().manual_seed(1)
    x = F.normalize(torch.randn(40, 5, generator=g), dim=1)
    distances, labels = torch.cdist(x, x), torch.randint(0, 2, (40,), generator=g)
    ours = active_triplet_weights(distances, labels, margin, direct_max_positives=direct_max_positives)
    a, p, n = _enumerated(labels)
    violation = distances[a, p] - distances[a, n] + margin
    active = violation > 0
    assert 0 < ours.active == active.sum() < a.numel()  # a mix of active and inactive triplets
    assert ours.hard == (distances[a, n] < distances[a, p]).sum()
    torch.testing.assert_close(ours.violation_sum, violation[active].sum())
    expected = torch.zeros_like(distances)
    expected.index_put_((a[active], p[active]), torch.ones(int(active.sum())), accumulate=True)
    expected.index_put_((a[active], n[active]), -torch.ones(int(active.sum())), accumulate=True)
    torch.testing.assert_close(ours.weights, expected)
