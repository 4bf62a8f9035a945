"""Miners against explicit loops over the batch."""

from __future__ import annotations

import pytest
import torch

from lightning_modules.miners import (
    HardestTripletMiner,
    SemiHardTripletMiner,
)

LABELS = {
    "pk": torch.tensor([0, 1, 2, 0, 1, 2, 0, 1]),
    "with_singletons": torch.tensor([0, 0, 1, 2, 3, 3, 3, 4]),
    "one_class": torch.zeros(5, dtype=torch.long),
}


def _distances(n: int, seed: int) -> torch.Tensor:
    x = torch.randn(n, 4, generator=torch.Generator().manual_seed(seed))
    return torch.cdist(x, x)


def _as_set(triplets) -> set[tuple[int, int, int]]:
    return set(zip(*(t.tolist() for t in triplets), strict=True))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("labels", LABELS.values(), ids=LABELS.keys())
def test_hardest_triplets(labels, seed):
    d, b = _distances(labels.numel(), seed), range(labels.numel())
    expected = set()
    for a in b:
        positives = [p for p in b if p != a and labels[p] == labels[a]]
        negatives = [n for n in b if labels[n] != labels[a]]
        if positives and negatives:
            expected.add((a, max(positives, key=lambda p: d[a, p]), min(negatives, key=lambda n: d[a, n])))
    assert _as_set(HardestTripletMiner()(d, labels)) == expected


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("labels", LABELS.values(), ids=LABELS.keys())
def test_semi_hard_triplets(labels, seed):
    d, b = _distances(labels.numel(), seed), range(labels.numel())
    expected = set()
    for a in b:
        negatives = [n for n in b if labels[n] != labels[a]]
        for p in (p for p in b if p != a and labels[p] == labels[a] and negatives):
            farther = [n for n in negatives if d[a, n] > d[a, p]]
            n = min(farther, key=lambda n: d[a, n]) if farther else max(negatives, key=lambda n: d[a, n])
            expected.add((a, p, n))
    assert _as_set(SemiHardTripletMiner()(d, labels)) == expected


def test_miners_do_not_track_gradients():
    d = _distances(8, 0).requires_grad_(True)
    for miner in (HardestTripletMiner(), SemiHardTripletMiner()):
        assert not any(t.requires_grad for t in miner(d, LABELS["pk"]))
