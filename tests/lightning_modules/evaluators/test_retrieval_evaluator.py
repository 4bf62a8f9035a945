import numpy as np
import pytest
import torch

from lightning_modules.evaluators import RetrievalEvaluator


def _explicit_mrr(anchors, positives, cutoff):
    a = anchors.numpy() / np.linalg.norm(anchors.numpy(), axis=1, keepdims=True)
    p = positives.numpy() / np.linalg.norm(positives.numpy(), axis=1, keepdims=True)
    total = 0.0
    for i in range(len(a)):
        ranking = sorted(range(len(p)), key=lambda j: -float(a[i] @ p[j]))
        rank = ranking.index(i) + 1
        total += 1.0 / rank if rank <= cutoff else 0.0
    return 100 * total / len(a)


@pytest.mark.parametrize("n", [5, 40])
def test_matches_explicit_ranking(n):
    gen = torch.Generator().manual_seed(n)
    anchors = torch.randn(n, 6, generator=gen)
    positives = anchors + 1.2 * torch.randn(n, 6, generator=gen)
    metrics = RetrievalEvaluator()([anchors, positives], None)
    assert metrics["mrr_at_10"] == pytest.approx(_explicit_mrr(anchors, positives, 10))


def test_hand_built_ranks():
    anchors = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    # anchor 0 finds its positive first; anchor 1 second (after positive 2); anchor 2 third
    positives = torch.tensor([[1.0, 0.0], [0.2, 1.0], [-0.1, 1.0]])
    metrics = RetrievalEvaluator(cutoff=2)([anchors, positives], None)
    assert metrics["mrr_at_10"] == pytest.approx(100 * (1 + 1 / 2 + 0) / 3)
    assert metrics["recall_at_1"] == pytest.approx(100 / 3)
    assert metrics["recall_at_2"] == pytest.approx(200 / 3)
