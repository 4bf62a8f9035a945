import pytest
import torch
from scipy.stats import mode
from sklearn.neighbors import NearestNeighbors

from lightning_modules.evaluators import LabeledEvaluator


@pytest.mark.parametrize("k", [1, 5])
def test_knn_matches_sklearn_leave_one_out(k):
    gen = torch.Generator().manual_seed(k)
    labels = torch.arange(60) % 4
    x = torch.randn(4, 8, generator=gen)[labels] + 1.5 * torch.randn(60, 8, generator=gen)
    # kneighbors() on the fitted data leaves each point out of its own neighbourhood
    neighbours = NearestNeighbors(n_neighbors=k, metric="cosine").fit(x.numpy()).kneighbors()[1]
    predicted = mode(labels.numpy()[neighbours], axis=1, keepdims=False).mode
    expected = 100 * float((predicted == labels.numpy()).mean())
    assert LabeledEvaluator(k=k)([x], labels)["knn_accuracy"] == pytest.approx(expected)


def test_well_separated_classes_are_perfect():
    labels = torch.arange(30) % 3
    x = torch.eye(3)[labels] * 10 + 0.01 * torch.randn(30, 3, generator=torch.Generator().manual_seed(0))
    metrics = LabeledEvaluator(k=1)([x], labels)
    assert metrics["knn_accuracy"] == 100.0
    assert metrics["v_measure"] == pytest.approx(100.0)


def test_v_measure_is_seeded_and_low_for_random_labels():
    gen = torch.Generator().manual_seed(3)
    x, labels = torch.randn(80, 6, generator=gen), torch.randint(0, 4, (80,), generator=gen)
    first = LabeledEvaluator(seed=7)([x], labels)["v_measure"]
    assert first == LabeledEvaluator(seed=7)([x], labels)["v_measure"]
    assert first < 20


def test_rejects_missing_labels_and_tiny_sets():
    with pytest.raises(ValueError, match="class ids"):
        LabeledEvaluator()([torch.randn(10, 3)], None)
    with pytest.raises(ValueError, match="more than 5"):
        LabeledEvaluator(k=5)([torch.randn(5, 3)], torch.zeros(5))
