import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, f1_score
from sklearn.metrics.pairwise import paired_cosine_distances

from lightning_modules.evaluators import BinaryPairEvaluator


def _sklearn_reference(x1, x2, labels):
    scores = 1 - paired_cosine_distances(x1.numpy(), x2.numpy())
    ap = average_precision_score(labels.numpy(), scores)
    best_f1 = max(f1_score(labels.numpy(), scores >= t) for t in np.unique(scores))
    return 100 * ap, 100 * best_f1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_sklearn(seed):
    gen = torch.Generator().manual_seed(seed)
    x1, x2 = torch.randn(60, 5, generator=gen), torch.randn(60, 5, generator=gen)
    labels = (torch.rand(60, generator=gen) < 0.4).long()
    metrics = BinaryPairEvaluator()([x1, x2], labels)
    ap, f1 = _sklearn_reference(x1, x2, labels)
    assert metrics["pair_ap"] == pytest.approx(ap, abs=1e-9)
    assert metrics["pair_f1"] == pytest.approx(f1, abs=1e-9)


def test_tied_scores_match_sklearn():
    # pairs 0-2 share one score, pairs 3-5 another
    x1 = torch.tensor([[1.0, 0.0]] * 6)
    x2 = torch.tensor([[1.0, 0.0]] * 3 + [[0.0, 1.0]] * 3)
    labels = torch.tensor([1, 0, 1, 1, 0, 0])
    metrics = BinaryPairEvaluator()([x1, x2], labels)
    ap, f1 = _sklearn_reference(x1, x2, labels)
    assert metrics["pair_ap"] == pytest.approx(ap)
    assert metrics["pair_f1"] == pytest.approx(f1)
    assert metrics["pair_f1_threshold"] == pytest.approx(1.0)


def test_needs_a_positive():
    with pytest.raises(ValueError, match="at least one positive"):
        BinaryPairEvaluator()([torch.randn(4, 3), torch.randn(4, 3)], torch.zeros(4))
