"""The statistic helpers the losses log: Spearman (vs scipy) and FaceNet triplet categories."""

from __future__ import annotations

import pytest
import torch
from scipy.stats import spearmanr

from lightning_modules.losses.rank_correlation import spearman
from lightning_modules.losses.triplet_statistics import triplet_statistics


@pytest.mark.parametrize("seed", range(3))
def test_spearman_matches_scipy_with_ties(seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 4, (20,), generator=g).double()
    y = x + torch.randint(0, 3, (20,), generator=g).double()
    assert spearman(x, y).item() == pytest.approx(spearmanr(x.numpy(), y.numpy()).statistic, abs=1e-6)


def test_spearman_of_constant_input_is_zero():
    assert spearman(torch.ones(5), torch.arange(5.0)).item() == 0.0


def test_triplet_categories():
    # margin 1: one hard (d_an < d_ap), one semi-hard (d_ap < d_an < d_ap + 1), one easy.
    stats = triplet_statistics(torch.tensor([1.0, 1.0, 1.0]), torch.tensor([0.5, 1.5, 3.0]), margin=1.0)
    for key in ("hard_fraction", "semi_hard_fraction", "easy_fraction"):
        assert stats[key].item() == pytest.approx(1 / 3)
    assert stats["active_fraction"].item() == pytest.approx(2 / 3)
    assert stats["mean_violation"].item() == pytest.approx((1.5 + 0.5) / 2)
    assert stats["mean_pos_distance"].item() == pytest.approx(1.0)
    assert stats["mean_neg_distance"].item() == pytest.approx(5 / 3)


def test_triplet_statistics_of_no_triplet_are_zero():
    stats = triplet_statistics(torch.empty(0), torch.empty(0), margin=1.0)
    assert all(value.item() == 0.0 for value in stats.values())
