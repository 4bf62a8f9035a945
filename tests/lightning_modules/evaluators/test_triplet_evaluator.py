import numpy as np
import pytest
import torch

from lightning_modules.evaluators import TripletEvaluator


def test_matches_explicit_loop():
    gen = torch.Generator().manual_seed(1)
    a, p, n = (torch.randn(50, 6, generator=gen) for _ in range(3))
    wins = 0
    for i in range(50):
        cos_p = np.dot(a[i], p[i]) / (np.linalg.norm(a[i]) * np.linalg.norm(p[i]))
        cos_n = np.dot(a[i], n[i]) / (np.linalg.norm(a[i]) * np.linalg.norm(n[i]))
        wins += cos_p > cos_n
    metrics = TripletEvaluator()([a, p, n], None)
    assert metrics["triplet_accuracy"] == pytest.approx(100.0 * wins / 50)


def test_hand_built_triplets_and_ties():
    anchor = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    positive = torch.tensor([[2.0, 0.1], [0.0, 1.0], [0.0, 1.0]])
    negative = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.0, 3.0]])
    # wins, loses, tie (counted as a failure)
    assert TripletEvaluator()([anchor, positive, negative], None)["triplet_accuracy"] == pytest.approx(100.0 / 3)


def test_several_negatives_positive_must_beat_every_one():
    torch.manual_seed(1)
    anchor, positive, *negatives = (torch.randn(40, 6) for _ in range(5))
    expected = 0
    for i in range(40):
        pos = torch.nn.functional.cosine_similarity(anchor[i], positive[i], dim=0)
        negs = [torch.nn.functional.cosine_similarity(anchor[i], n[i], dim=0) for n in negatives]
        expected += int(all(pos > neg for neg in negs))
    metrics = TripletEvaluator()([anchor, positive, *negatives], None)
    assert metrics["triplet_accuracy"] == pytest.approx(100.0 * expected / 40)
